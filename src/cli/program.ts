/**
 * The command tree. Every action imports its module only when it runs, so `--help` stays fast
 * (discord.js, PGlite, pdf.js and groq-sdk load only in the commands that use them).
 */
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { MAX_LIST_LIMIT, wholeNumber, wholeNumberIn } from '../validate.js';
import { VERSION } from '../version.js';
import type { Context, GlobalOptions } from './context.js';

type Action<A extends unknown[]> = (ctx: Context, ...args: A) => Promise<void>;

/** Wraps an action: builds the context from the global options, then runs the lazily loaded command. */
function run<A extends unknown[]>(load: () => Promise<Action<A>>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const globals = command.optsWithGlobals<GlobalOptions>();
    const { createContext } = await import('./context.js');
    const ctx = await createContext(globals);
    const action = await load();
    await action(ctx, ...(args.slice(0, -1) as A));
  };
}

/** A flag's whole number from `min` to `max`; anything else exits 2 naming the flag and the range. */
function whole(flag: string, min: number, max: number, code?: string) {
  return (value: string): number => wholeNumber(value, flag, min, max, code);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--min-hit`: a share from 0 to 1 or a percentage; checked here so a bad value exits 2 before anything runs. */
function minHit(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(value);
  const n = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(n >= 0 && n <= 1))
    throw new UserError(`--min-hit must be a share from 0 to 1, e.g. 0.8, or a percentage such as 80% (got "${value}")`, 'bad_min_hit');
  return n;
}

function port(value: string): number {
  const n = wholeNumberIn(value, 0, 65535);
  if (n === null) throw new UserError(`--port must be a port number (got "${value}")`, 'bad_port');
  return n;
}

export function buildProgram(options: { json: boolean }): Command {
  const program = new Command('copilot');
  program
    .description('A self-hosted AI copilot for Discord: grounded answers from your documents, administered from here.')
    .version(VERSION, '-V, --version')
    .option('--json', 'print exactly one JSON document on stdout (errors as JSON on stderr)')
    .option('--database-url <url>', 'Postgres with pgvector (default: DATABASE_URL, the profile, else the embedded database)')
    .option('--home <dir>', 'data folder for the embedded database and the profile (default: COPILOT_HOME or ~/.copilot)')
    .option('--verbose', 'more detail, including stack traces of failures')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      // The error boundary in main.ts prints errors (as JSON with --json); help goes to stdout.
      writeErr: (text) => {
        if (!options.json && !text.startsWith('error:')) process.stderr.write(text);
      },
    });
  program.addHelpText(
    'after',
    `
Exit codes: 0 success · 2 bad input or usage (nothing changed) · 1 a dependency failed (database, Groq, embeddings, Discord).
Configuration comes from the environment and .env (see .env.example); \`copilot config\` stores a profile.`,
  );

  program
    .command('serve')
    .description('run the Discord bot and the status endpoint')
    .addOption(new Option('--port <n>', 'status endpoint port (default: PORT or 8080)').argParser(port))
    .option('--host <h>', 'status endpoint address (default: HOST or 0.0.0.0)')
    .option('--shards <list>', "this process's gateway shards, e.g. 0,2 or 0-3 (default: SHARDS, else every shard)")
    .option('--shard-count <n>', "the total number of shards, or auto for Discord's recommended (default: SHARD_COUNT, else auto)")
    .action(run(async () => (await import('./commands/serve.js')).serve));

  program
    .command('ask')
    .description('answer one question through the full pipeline (streams to stdout)')
    .argument('<question...>', 'the question')
    .option('--channel <id>', "use and update this channel's conversation memory")
    .action(run(async () => (await import('./commands/ask.js')).ask));

  program
    .command('chat')
    .description('interactive conversation in the terminal (/reset, /exit)')
    .option('--channel <id>', "use and update this channel's conversation memory")
    .action(run(async () => (await import('./commands/ask.js')).chat));

  const instructions = program.command('instructions').description('the system instructions: global, or per channel');
  instructions
    .command('show')
    .description('print the instructions in force')
    .option('--channel <id>', "a channel's override (falls back to the global instructions)")
    .option('--history', 'list the changes instead (who, when, old → new)')
    .addOption(new Option('--limit <n>', 'how many changes --history lists').default(20).argParser(whole('--limit', 1, MAX_LIST_LIMIT)))
    .action(run(async () => (await import('./commands/instructions.js')).show));
  instructions
    .command('set')
    .description('replace the instructions with TEXT, a file (--file F), or stdin (-)')
    .argument('[text...]', 'the new instructions, or - to read stdin')
    .option('--file <path>', 'read the instructions from a file')
    .option('--channel <id>', 'set an override for this allowed channel')
    .action(run(async () => (await import('./commands/instructions.js')).set));
  instructions
    .command('edit')
    .description('edit the instructions in $EDITOR (or a prompt when there is none)')
    .option('--channel <id>', "edit this allowed channel's override")
    .action(run(async () => (await import('./commands/instructions.js')).edit));

  const channels = program.command('channels').description('the channels the bot answers in');
  channels
    .command('list')
    .description('list the allowed channels')
    .action(run(async () => (await import('./commands/channels.js')).list));
  channels
    .command('add')
    .description('allow channels (or change their mode)')
    .argument('<id...>', 'channel IDs (Discord snowflakes)')
    .addOption(
      new Option(
        '--mode <mode>',
        'answer every message, only when mentioned or replied to, or in a thread opened on a mention (default: all)',
      ).choices(['all', 'mention', 'thread']),
    )
    .option('--collections <names>', 'retrieve only from these collections (comma-separated); default: all')
    .option('--escalate-role <id>', 'ping this role when an answer here is not in the knowledge base (updates a channel already added)')
    .action(run(async () => (await import('./commands/channels.js')).add));
  channels
    .command('remove')
    .description('stop answering in channels')
    .argument('<id...>', 'channel IDs')
    .action(run(async () => (await import('./commands/channels.js')).remove));

  const kb = program.command('kb').description('the knowledge base: documents the bot answers from');
  kb.command('ingest')
    .description('add PDF, Markdown or text files, and web pages (HTML or PDF) by URL')
    .argument('[file-or-url...]', 'files and http(s) URLs to ingest')
    .option('--replace', 'replace a document of the same name whose content changed')
    .option('--sitemap <url>', 'every page a sitemap lists (indexes followed); repeatable', collect, [])
    .option('--crawl <url>', 'pages linked from this one, within its site and path; repeatable', collect, [])
    .addOption(new Option('--max-pages <n>', 'pages a crawl requests at most (default 100)').argParser(whole('--max-pages', 1, 100_000)))
    .option('--collection <name>', 'the collection the documents belong to (default: default)')
    .action(run(async () => (await import('./commands/kb.js')).ingest));
  kb.command('move')
    .description('move documents to another collection')
    .argument('<doc...>', 'document ids or names')
    .requiredOption('--collection <name>', 'the collection to move them to')
    .action(run(async () => (await import('./commands/kb.js')).move));
  kb.command('sync')
    .description('re-fetch web documents (all when none given): changed pages replaced, new sitemap pages added')
    .argument('[doc...]', 'document ids, names or URLs')
    .action(run(async () => (await import('./commands/kb.js')).sync));
  kb.command('list')
    .description('list documents')
    .action(run(async () => (await import('./commands/kb.js')).list));
  kb.command('show')
    .description('a document and its first chunks')
    .argument('<doc>', 'document id or name')
    .action(run(async () => (await import('./commands/kb.js')).show));
  kb.command('remove')
    .description('remove documents and their chunks')
    .argument('<doc...>', 'document ids or names')
    .action(run(async () => (await import('./commands/kb.js')).remove));
  kb.command('search')
    .description('the retrieval the bot uses: rank, score, file, page, snippet')
    .argument('<query...>', 'what to look for')
    .addOption(new Option('-k <n>', 'how many results').default(5).argParser(whole('-k', 1, 50)))
    .option('--channel <id>', "search only this allowed channel's collections")
    .action(run(async () => (await import('./commands/kb.js')).search));
  kb.command('embed')
    .description('compute missing embeddings (--rebuild: all of them, for a new model)')
    .option('--rebuild', 're-embed every chunk with EMBEDDINGS_MODEL, changing the stored dimension if needed')
    .action(run(async () => (await import('./commands/kb.js')).embed));
  kb.command('gaps')
    .description('questions the knowledge base could not answer, most frequent first')
    .option('--since <age>', 'how far back, e.g. 7d, 24h', '7d')
    .action(run(async () => (await import('./commands/kb.js')).gaps));
  const candidates = kb
    .command('candidates')
    .description("moderators' answers to escalated questions: accept one into the answers document, or reject it");
  candidates
    .command('list', { isDefault: true })
    .description('list candidate answers, newest first (the default)')
    .option('--status <status>', 'only pending, accepted or rejected ones')
    .action(run(async () => (await import('./commands/candidates.js')).list));
  candidates
    .command('show')
    .description('one candidate: its question and answer in full')
    .argument('<id>', 'candidate id')
    .action(run(async () => (await import('./commands/candidates.js')).show));
  candidates
    .command('accept')
    .description('store the question and answer as a chunk of the answers document (retrieved and cited like any passage)')
    .argument('<id>', 'candidate id')
    .option('--edit', 'tidy the answer first in $EDITOR (or a prompt on a terminal)')
    .action(run(async () => (await import('./commands/candidates.js')).accept));
  candidates
    .command('reject')
    .description('discard a candidate answer (kept as rejected)')
    .argument('<id>', 'candidate id')
    .action(run(async () => (await import('./commands/candidates.js')).reject));

  program
    .command('eval')
    .description('retrieval (and answer) quality on a question file (JSON Lines): hit@k, MRR, gaps, latency')
    .argument('<file>', 'questions, one JSON object a line (see README)')
    .addOption(new Option('-k <n>', 'passages retrieved per question').default(5).argParser(whole('-k', 1, 50)))
    .option('--channel <id>', 'retrieve as in this allowed channel: its collections (and, with --answers, its instructions)')
    .option('--answers', 'also answer each question (Groq, or the fallback) and count gap flags')
    .addOption(
      new Option('--min-hit <x>', 'exit 1 when hit@k is below this share (0.8) or percentage (80%)').argParser((v: string) => minHit(v)),
    )
    .action(run(async () => (await import('./commands/eval.js')).evaluate));

  const convo = program.command('convo').description('conversation memory per channel or thread');
  convo
    .command('list')
    .description('list conversations')
    .action(run(async () => (await import('./commands/convo.js')).list));
  convo
    .command('show')
    .description("a conversation's recent messages")
    .argument('<channel-id>', 'channel or thread ID (or "cli")')
    .addOption(new Option('--limit <n>', 'how many messages').default(20).argParser(whole('--limit', 1, MAX_LIST_LIMIT, 'bad_limit')))
    .action(run(async () => (await import('./commands/convo.js')).show));
  convo
    .command('reset')
    .description("forget a conversation's messages")
    .argument('<channel-id>', 'channel or thread ID (or "cli")')
    .option('--yes', 'do not ask for confirmation (required without a terminal)')
    .action(run(async () => (await import('./commands/convo.js')).reset));

  const feedback = program.command('feedback').description('👍/👎 votes given with the answer buttons');
  feedback
    .command('list', { isDefault: true })
    .description('votes on answers, newest first: time, channel, vote, question, answer, sources (the default)')
    .option('--since <age>', 'how far back, e.g. 7d, 24h', '7d')
    .option('--down', 'only 👎 votes')
    .action(run(async () => (await import('./commands/feedback.js')).list));
  feedback
    .command('export')
    .description('the 👍 answers as a `copilot eval` question file (JSON Lines): question, file and pages of the sources used')
    .option('--since <age>', 'only answers voted on since, e.g. 30d (default: all)')
    .option('--out <file>', 'write the file here instead of stdout')
    .action(run(async () => (await import('./commands/feedback.js')).exportQuestions));

  const db = program.command('db').description('the database');
  db.command('migrate')
    .description('apply pending migrations')
    .action(run(async () => (await import('./commands/db.js')).migrateCommand));
  db.command('status')
    .description('backend, pgvector, applied and pending migrations')
    .action(run(async () => (await import('./commands/db.js')).status));

  program
    .command('doctor')
    .description('check config, database, pgvector, Groq, embeddings and the Discord token')
    .action(run(async () => (await import('./commands/doctor.js')).doctor));

  program
    .command('invite')
    .description('the link that adds the bot to a server, with exactly the permissions it uses')
    .action(run(async () => (await import('./commands/invite.js')).invite));

  const config = program.command('config').description(`the operator profile (stored in COPILOT_HOME)`);
  config
    .command('get')
    .argument('<key>', 'profile key')
    .description('print one value')
    .action(run(async () => (await import('./commands/config.js')).get));
  config
    .command('set')
    .argument('<key>', 'profile key')
    .argument('<value>', 'value')
    .description('store a value (used when the environment does not set it)')
    .action(run(async () => (await import('./commands/config.js')).set));
  config
    .command('unset')
    .argument('<key>', 'profile key')
    .description('remove a value')
    .action(run(async () => (await import('./commands/config.js')).unset));
  config
    .command('list')
    .description('all values and where each setting comes from')
    .action(run(async () => (await import('./commands/config.js')).list));

  return program;
}
