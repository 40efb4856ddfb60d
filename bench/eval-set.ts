/**
 * Evaluation set for retrieval quality: Discord-style questions about the three generated test
 * documents of test/support/pdfs.ts (ingested as manual.pdf = longManual(), tables.pdf =
 * tablesDoc(), twocolumn.pdf = twoColumnDoc()), plus questions that none of them answers.
 *
 * Questions are paraphrased the way users type (lower case, typos, filler, synonyms instead of
 * setting names); a few share a rare token with their page (an error code, a file extension),
 * most share only common words, some none. Every answerable question names the page holding its
 * answer: each was checked against the text extractText() returns for that page (page numbers of
 * the generated PDFs, 1-based), and `alsoPages` lists another page only where the same answer is
 * genuinely stated there too. Answers that sit in two different documents were avoided (e.g. the
 * byte order mark, mapped drive letters and E-2107 appear in both the manual and the newsletter).
 * Unanswerable questions were checked to have no answer in any of the three documents; some
 * deliberately share common words (export, settings, file, Rotterdam) to be hard to reject.
 * The same set, as a `copilot eval` question file, is bench/eval/questions.jsonl; a unit test
 * (test/unit/eval-data.test.ts) keeps the two equal.
 */

export interface EvalQuestion {
  question: string;
  answerable: boolean;
  document?: 'manual.pdf' | 'tables.pdf' | 'twocolumn.pdf';
  page?: number;
  /** Acceptable alternative pages when the answer truly sits on two pages. */
  alsoPages?: number[];
}

const manual = (page: number, question: string, alsoPages?: number[]): EvalQuestion => ({
  question,
  answerable: true,
  document: 'manual.pdf',
  page,
  ...(alsoPages ? { alsoPages } : {}),
});
const tables = (page: number, question: string): EvalQuestion => ({ question, answerable: true, document: 'tables.pdf', page });
const newsletter = (page: number, question: string): EvalQuestion => ({ question, answerable: true, document: 'twocolumn.pdf', page });
const none = (question: string): EvalQuestion => ({ question, answerable: false });

export const EVAL_QUESTIONS: EvalQuestion[] = [
  // --- manual.pdf (Acme Exporter 4 Administrator Guide, 50 pages) ---
  // p9: Remember last used settings
  manual(
    9,
    'hey, every time i start a new export it forgets my semicolon + date format and i have to pick them again... can it just reuse what i had last time??',
  ),
  // p3: error 1603
  manual(3, 'windows installer keeps bailing out with 1603, anyone know whats up'),
  // p4: Linux on ARM is not supported
  manual(4, 'anyone got it running on a raspberry pi? like arm linux'),
  // p7: XLSX continues on additional sheets past 1,048,576 rows
  manual(7, 'what happens when my excel output goes over a million rows, does it just chop off the rest?'),
  // p8: Null value text
  manual(8, 'missing values come out as just nothing in the csv, can i make it print n/a or something instead'),
  // p11: Missed runs, Catch up is the default
  manual(11, 'if my pc was off when the nightly job was supposed to go, does it run later or just skip it?'),
  // p12: deleted rows cannot be detected, full refresh every tenth run
  manual(12, 'does the only-changed-rows mode notice when records get deleted in the db or nah'),
  // p13: text comparisons ignore case unless EXACT
  manual(13, "is the where condition case sensitive? like will 'Active' match 'active'"),
  // p15: Split files larger than, 250 MB by default
  manual(15, 'output file is like 4gb and nobody can open it, can it chop it into smaller pieces automatically?'),
  // p16: files are written with the extension .partial and renamed when complete
  manual(16, 'why do my files have a weird .partial on the end while its running'),
  // p20: webhook retried five times with growing delays
  manual(20, 'if my endpoint is down when the callback fires does it try again later or is it lost'),
  // p23: Ctrl+K opens the command palette
  manual(23, 'whats the hotkey to search for any action by its name'),
  // p24: exit status 3 when the source could not be read
  manual(24, 'writing a bash wrapper around the cli - which exit code means it couldnt read from the database?'),
  // p26: annual plans refunded in full within 14 days
  manual(26, 'bought the yearly subscription last week and kinda regret it, can i get my money back?'),
  // p31: recovery codes are the only way back in if the phone is lost
  manual(31, 'lost my phone with the authenticator on it 😭 how do i get back into my account'),
  // p33: PAC file not supported
  manual(33, 'does it support proxy auto config / pac scripts or do i have to type the proxy in'),
  // p34: tls.ca_file for the company root certificate
  manual(
    34,
    'our firewall intercepts https with our own company root cert and now uploads fail with cert errors, how do i make it trust that',
  ),
  // p36 / p41: queries cancelled after 300 seconds, raise Query timeout
  manual(36, 'my big report query always gets killed after exactly 5 minutes, where do i bump that', [41]),
  // p41: E-1004 although the password is right: database requires encrypted connections
  manual(41, 'getting E-1004 even tho im 100% sure the pw is correct??'),
  // p42 / p18: E-2305, SFTP host key changed
  manual(42, 'sftp uploads suddenly failing since the server got rebuilt, something about the host key?', [18]),
  // p43: E-3099, clock differs from the licence server
  manual(43, 'one of our vms keeps throwing E-3099, what does that even mean'),
  // p39: Hash keeps values joinable
  manual(39, 'can i scramble customer emails in the output but still be able to join tables on them'),

  // --- tables.pdf (plans and limits sheet, 4 pages of tables) ---
  // p1: Team $29 monthly per seat
  tables(1, 'how much is the team tier per user per month'),
  // p1: non-profit organisations receive 40% off
  tables(1, 'do you guys do any discount for charities?'),
  // p2: Scheduled profiles, Starter 5
  tables(2, 'how many scheduled jobs can i have on the cheapest plan'),
  // p2: daily limits reset at midnight UTC
  tables(2, 'when does the exports-per-day cap reset, is it my local midnight or what'),
  // p3: API-2002 Token expired
  tables(3, 'cloud api started returning 401 API-2002 out of nowhere, what do i do'),
  // p3: API-4001 409 Run already in progress
  tables(3, 'getting a 409 conflict when i trigger a profile through the rest api, why'),
  // p4: Asia Pacific, Singapore
  tables(4, 'where do you host data for customers in asia? need to know for compliance'),
  // p4: moving a workspace to another region is done by support, up to two days
  tables(4, 'can we move our workspace from the us servers to europe later on?'),

  // --- twocolumn.pdf (Acme Quarterly newsletter, issue 12, 3 pages in two columns) ---
  // p1: Brood & Co, three hours down to eleven minutes with incremental mode
  newsletter(1, 'anyone have a real world story of the delta mode actually speeding up a nightly job?'),
  // p1: Zstandard level 3 31 percent smaller than Snappy, 8 percent slower
  newsletter(1, 'has anybody benchmarked zstd vs snappy with the new parquet writer? actual percentages pls'),
  // p1: timestamps now microsecond precision with the UTC flag, fixes shifted times
  newsletter(1, 'times in my parquet files showed up shifted by a few hours in some tools, did 4.2 fix that?'),
  // p2: user group in Rotterdam, second Thursday of every month
  newsletter(2, 'is there some kind of in-person meetup for users? i am in the netherlands'),
  // p2: most frequent ticket: mapped drive letters
  newsletter(2, 'what do people complain to the helpdesk about the most?'),
  // p3: webhook secret rotation, grace period of one hour
  newsletter(3, 'if i swap the signing secret on my hooks will notifications break while i update the receiving side'),
  // p3: coming in version 4.3: Delta Lake, Windows on ARM
  newsletter(3, 'whats planned for the next release? any chance of delta lake support'),

  // --- not answerable by any document ---
  none('how much does it cost in euros? i only ever see dollar prices'),
  none('is there a mobile app for android or iphone to check on my exports?'),
  none("what's the weather like in paris today"),
  none('can i put our company logo and colours in the console? like white-label it'),
  none('how do i make the header row bold with a background colour in the xlsx export'),
  none('is there a way to password protect the exported files so only finance can open them'),
  none('who is the ceo of acme anyway'),
  none('anyone know a good pizza place near the rotterdam meetup?'),
  none('how do i change my nickname on this discord server'),
  none('when is version 5 coming out?'),
  none('can it send me an sms text when an export fails? email is too slow for us'),
  none('whats the max file size you can upload to discord without nitro'),
  none('does it have some ai assistant that writes the filter settings for me from plain english?'),
  none('what does error E-4501 mean, cant find it anywhere'),
];
