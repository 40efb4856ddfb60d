-- Channel mode 'thread': a message that mentions the bot opens a public thread on it, and the
-- thread is the conversation (every later message there is answered without a mention).
alter table channels drop constraint channels_mode_check;
alter table channels add constraint channels_mode_check check (mode in ('all', 'mention', 'thread'));
