/**
 * Test documents generated with pdfkit: realistic PDFs with KNOWN text on KNOWN pages, for the
 * extraction tests, the ingest tests and the retrieval benchmark (bench/ writes its questions
 * against the facts exported here).
 *
 * Layout is done here, line by line (pdfkit only draws each line at its position), so that the
 * tests know where every line is: words are hyphenated at line ends where they don't fit, tables
 * are aligned columns, and the newsletter's two columns can be drawn column by column or row by
 * row across both columns (the order some producers write), which a naive reader interleaves.
 * Content is deterministic: no dates, no randomness (except the encryption key of encryptedPdf).
 */
import { deflateSync } from 'node:zlib';
import PDFDocument from 'pdfkit';

type Doc = InstanceType<typeof PDFDocument>;

const FIXED_DATE = new Date(Date.UTC(2024, 0, 15, 12, 0, 0));
const PAGE_W = 612; // US Letter
const PAGE_H = 792;
const MARGIN = 72;

function newDoc(extra: Record<string, unknown> = {}): Doc {
  return new PDFDocument({
    size: 'LETTER',
    margin: 0, // layout is ours; pdfkit must never add a page on its own
    autoFirstPage: false,
    info: { Title: 'test document', Producer: 'copilot tests', Creator: 'copilot tests', CreationDate: FIXED_DATE },
    ...extra,
  });
}

function collect(doc: Doc): Promise<Buffer> {
  const parts: Buffer[] = [];
  return new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (b: Buffer) => parts.push(b));
    doc.on('end', () => resolve(Buffer.concat(parts)));
    doc.on('error', reject);
  });
}

async function render(build: (doc: Doc) => void, extra?: Record<string, unknown>): Promise<Buffer> {
  const doc = newDoc(extra);
  const done = collect(doc);
  build(doc);
  doc.end();
  return done;
}

interface DrawOp {
  text: string;
  x: number;
  y: number;
  font: string;
  size: number;
  color: string;
}

export interface Hyphenation {
  page: number;
  /** The whole word, as it reads once joined. */
  word: string;
  /** What ends the line ("configu-"). */
  head: string;
}

/** Lays out text on one page; ops are drawn when the page is flushed. */
class PageSetter {
  readonly ops: DrawOp[] = [];
  y: number;
  constructor(
    readonly doc: Doc,
    readonly page: number,
    readonly hyphenations: Hyphenation[],
    readonly left = MARGIN,
    readonly width = PAGE_W - 2 * MARGIN,
    top = MARGIN,
    readonly bottom = PAGE_H - MARGIN,
  ) {
    this.y = top;
  }

  measure(text: string, font: string, size: number): number {
    return this.doc.font(font).fontSize(size).widthOfString(text);
  }

  /** Greedy line breaking; long plain words that don't fit are hyphenated. */
  wrap(text: string, font: string, size: number, width: number, hyphenate: boolean): string[] {
    const words = text.split(/\s+/).filter(Boolean);
    const lines: string[] = [];
    let line = '';
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      const candidate = line ? `${line} ${word}` : word;
      if (this.measure(candidate, font, size) <= width) {
        line = candidate;
        continue;
      }
      const bare = /^([A-Za-z]{9,})([.,;:]?)$/.exec(word);
      if (hyphenate && bare && line) {
        let k = bare[1]!.length - 3;
        while (k >= 4 && this.measure(`${line} ${bare[1]!.slice(0, k)}-`, font, size) > width) k--;
        if (k >= 4) {
          const head = `${bare[1]!.slice(0, k)}-`;
          lines.push(`${line} ${head}`);
          this.hyphenations.push({ page: this.page, word: bare[1]!, head });
          line = bare[1]!.slice(k) + bare[2]!;
          continue;
        }
      }
      if (line) lines.push(line);
      line = word;
    }
    if (line) lines.push(line);
    return lines;
  }

  private ensure(height: number): void {
    if (this.y + height > this.bottom) {
      throw new Error(`test PDF page ${this.page} overflows: shorten its content`);
    }
  }

  line(text: string, opts: { font?: string; size?: number; x?: number; color?: string; lineHeight?: number } = {}): void {
    const size = opts.size ?? 10.5;
    const lh = opts.lineHeight ?? size * 1.32;
    this.ensure(lh);
    this.ops.push({ text, x: opts.x ?? this.left, y: this.y, font: opts.font ?? 'Helvetica', size, color: opts.color ?? '#111111' });
    this.y += lh;
  }

  gap(points: number): void {
    this.y += points;
  }

  heading(text: string, size = 16): void {
    this.line(text, { font: 'Helvetica-Bold', size, lineHeight: size * 1.25 });
    this.gap(size * 0.5);
  }

  paragraph(text: string, opts: { font?: string; size?: number; hyphenate?: boolean; indent?: number; after?: number } = {}): void {
    const size = opts.size ?? 10.5;
    const font = opts.font ?? 'Helvetica';
    const indent = opts.indent ?? 0;
    for (const l of this.wrap(text, font, size, this.width - indent, opts.hyphenate ?? true)) {
      this.line(l, { font, size, x: this.left + indent });
    }
    this.gap(opts.after ?? size * 0.9);
  }

  list(items: string[], numbered = false): void {
    items.forEach((item, i) => {
      const marker = numbered ? `${i + 1}.` : '•';
      const size = 10.5;
      const lines = this.wrap(item, 'Helvetica', size, this.width - 18, false);
      lines.forEach((l, k) => {
        if (k === 0) this.ops.push({ text: marker, x: this.left + 2, y: this.y, font: 'Helvetica', size, color: '#111111' });
        this.line(l, { x: this.left + 18, size });
      });
      this.gap(2);
    });
    this.gap(8);
  }

  /** A table drawn as aligned columns (cells are single lines). */
  table(header: string[], rows: string[][], colX: number[]): void {
    const draw = (cells: string[], font: string) => {
      this.ensure(15);
      cells.forEach((c, i) => this.ops.push({ text: c, x: this.left + colX[i]!, y: this.y, font, size: 10, color: '#111111' }));
      this.y += 15;
    };
    draw(header, 'Helvetica-Bold');
    this.gap(3);
    for (const r of rows) draw(r, 'Helvetica');
    this.gap(12);
  }

  flush(order: 'recorded' | 'rows' = 'recorded'): void {
    const ops = order === 'rows' ? [...this.ops].sort((a, b) => a.y - b.y || a.x - b.x) : this.ops;
    for (const op of ops) {
      this.doc.font(op.font).fontSize(op.size).fillColor(op.color).text(op.text, op.x, op.y, { lineBreak: false });
    }
    this.ops.length = 0;
  }
}

function footer(ps: PageSetter, text: string): void {
  ps.ops.push({ text, x: MARGIN, y: PAGE_H - 48, font: 'Helvetica', size: 8, color: '#666666' });
}

// ---------------------------------------------------------------------------------------------
// Long manual

interface ManualPage {
  title: string;
  paragraphs: (string | { steps: string[] } | { bullets: string[] })[];
  facts: string[];
}

/**
 * Acme Exporter 4 administrator guide: one topic per page. Every fact below is a literal
 * sentence fragment of its page, so the tests can find it on exactly that page.
 */
const MANUAL: ManualPage[] = [
  {
    title: 'Introduction',
    paragraphs: [
      'Acme Exporter 4 copies data from your workspace into files that other tools can read. It writes CSV, JSON Lines, Parquet and XLSX, on demand or on a schedule, to local folders, network shares, cloud storage or an SFTP server. This guide covers version 4.2 for administrators who install, configure and support it for a team.',
      'The application has two parts. The desktop console is where people design exports and preview the results. The background agent runs scheduled exports even when nobody is signed in, and it is the part that talks to the licence server. Both are installed together and share one configuration folder.',
      'Each chapter of this guide is one page long and can be read on its own. Settings are shown in the console as Preferences > Section > Setting, and in the configuration file exporter.toml as a dotted key such as exports.remember_last.',
    ],
    facts: ['It writes CSV, JSON Lines, Parquet and XLSX', 'The background agent runs scheduled exports even when nobody is signed in'],
  },
  {
    title: 'System requirements',
    paragraphs: [
      'Acme Exporter 4 runs on Windows 10 version 22H2 or later, Windows Server 2019 or later, macOS 13 Ventura or later on Intel and Apple silicon, and Ubuntu 22.04 or Debian 12 on x86-64. No Java runtime or .NET installation is needed; everything the program uses is bundled.',
      'The console needs at least 4 GB of RAM; 8 GB is recommended when you preview tables with more than a million rows. Keep 2 GB of free disk space for the program and its temporary files, plus room for the exports themselves, which are written to a temporary folder first and moved into place when complete.',
      'The agent listens on local port 7420 for the console. Nothing outside the machine needs to reach that port. A screen resolution of at least 1280 by 800 pixels is required for the export designer.',
    ],
    facts: ['The console needs at least 4 GB of RAM; 8 GB is recommended', 'The agent listens on local port 7420'],
  },
  {
    title: 'Installing on Windows',
    paragraphs: [
      'Download AcmeExporter-4.2.1-x64.msi from the customer portal and run it as a user with administrator rights. The installer places the program in C:\\Program Files\\Acme\\Exporter and registers the background agent as a Windows service that starts automatically.',
      'For unattended installation across many machines, use the silent mode: msiexec /i AcmeExporter-4.2.1-x64.msi /qn ACCEPT_EULA=1 LICENSE_KEY=your-key. Add AGENT=0 to install the console without the agent, for example on laptops that never run scheduled exports.',
      'If the installer stops with error 1603, another installation is usually still running in the background; wait for it to finish, restart Windows and try again. The installation log is written to %TEMP%\\AcmeExporterSetup.log.',
    ],
    facts: ['msiexec /i AcmeExporter-4.2.1-x64.msi /qn ACCEPT_EULA=1', 'If the installer stops with error 1603'],
  },
  {
    title: 'Installing on macOS and Linux',
    paragraphs: [
      'On macOS, install the signed package from the customer portal or use Homebrew: brew install acme/tap/exporter. The first start asks for permission to access the folders you export to; grant it in System Settings > Privacy & Security > Files and Folders.',
      'On Ubuntu and Debian, install the package with sudo apt install ./acme-exporter_4.2.1_amd64.deb. The package creates a system user named acme-exporter and a systemd unit for the agent. Check the installation with acme-exporter --version, which prints the version and the path of the configuration file in use.',
      'Apple silicon Macs run the native arm64 build; there is no Rosetta translation involved. Linux on ARM is not supported in version 4.2.',
    ],
    facts: ['brew install acme/tap/exporter', 'Linux on ARM is not supported in version 4.2'],
  },
  {
    title: 'Activating your licence',
    paragraphs: [
      'A licence key looks like AX4-7Q2M-K9PL-33TD and is sent by email after purchase. Enter it in Help > Licence > Activate. Activation contacts the licence server once; afterwards the program checks in every seven days and keeps working for 30 days without a connection.',
      'Each key can be active on three machines at a time. To move a seat to a new computer, open Help > Licence > Release seat on the old one first. If the old computer is gone, an Owner can release the seat from the Billing portal.',
      'Machines that never reach the internet use offline activation: generate a request file in the console, upload it from another computer at the customer portal, and import the returned .axlic file.',
    ],
    facts: ['Each key can be active on three machines at a time', 'import the returned .axlic file'],
  },
  {
    title: 'Your first export',
    paragraphs: [
      'The quickest way to see the program work is a one-off export of a single table. The export designer guides you through the choices; every step can be changed later.',
      {
        steps: [
          'Click New export and choose a data source, for example the Sales database.',
          'Pick the table or saved query to export and check the preview of the first 200 rows.',
          'Choose the file format and the destination folder.',
          'Press Export or Ctrl+E. A progress bar shows rows written and the estimated time left.',
        ],
      },
      'When the export finishes, the console offers to open the folder. The run is listed in the History tab together with the number of rows, the file size and how long it took.',
    ],
    facts: ['check the preview of the first 200 rows', 'The run is listed in the History tab'],
  },
  {
    title: 'Export formats',
    paragraphs: [
      'CSV files use a comma as the delimiter by default; semicolon, tab and pipe are available under Format options. Text is encoded as UTF-8. Tick Add byte order mark if the files are opened in older versions of Microsoft Excel, which otherwise misread accented characters.',
      'JSON Lines writes one object per line and suits log pipelines and data lakes. Parquet keeps column types and is much smaller than CSV; it is compressed with Snappy by default, and Zstandard can be chosen for roughly a third smaller files at a slightly higher processor cost.',
      'XLSX is convenient for people who work in spreadsheets but is limited to 1,048,576 rows per sheet. Larger results are continued automatically on additional sheets named Sheet2, Sheet3 and so on.',
    ],
    facts: ['it is compressed with Snappy by default', 'limited to 1,048,576 rows per sheet'],
  },
  {
    title: 'Export settings panel',
    paragraphs: [
      'The settings panel on the right side of the export designer controls how values are written. Date format decides how dates and timestamps appear; the default is ISO 8601, for example 2024-03-31T17:45:00Z, which every tool can parse.',
      'Null values are written as empty fields unless you type a replacement such as NULL or n/a into Null value text. Include header row adds the column names as the first line of CSV files. Decimal separator switches between a point and a comma for numbers.',
      'Changes in the panel apply to the current export only. To reuse them, read the next chapter about keeping settings between exports, or save them in an export profile.',
    ],
    facts: ['the default is ISO 8601', 'Null values are written as empty fields unless you type a replacement'],
  },
  {
    title: 'Keeping settings between exports',
    paragraphs: [
      'By default every new export starts from the factory settings, so options such as the delimiter, the date format or the destination have to be chosen again each time. Many teams prefer the program to remember what they used last.',
      'To keep your settings, open Preferences > Exports and turn on Remember last used settings. From then on a new export starts with the format options and the destination of your previous export. The choice is stored per user, so colleagues on the same computer keep their own defaults.',
      'Administrators can switch the behaviour on for everyone with exports.remember_last = true in exporter.toml. If different jobs need different settings, save each combination as an export profile instead; profiles are not affected by this option.',
    ],
    facts: ['turn on Remember last used settings', 'exports.remember_last = true'],
  },
  {
    title: 'Export profiles',
    paragraphs: [
      'An export profile is a named set of export settings: format, options, filters and destination. Save one from the designer with Save as profile, then start it from the Profiles list or from the command line.',
      'Profiles are stored as files in the profiles folder, which is ~/.acme/exporter/profiles on macOS and Linux and %APPDATA%\\Acme\\Exporter\\profiles on Windows. To share a profile with a colleague, use Export profile, which writes a single .axprofile file that can be imported on another machine.',
      'A workspace can hold up to 50 profiles. Renaming a profile keeps its schedule and history; deleting it removes the schedule too, but the files it produced are never touched.',
    ],
    facts: ['writes a single .axprofile file', 'A workspace can hold up to 50 profiles'],
  },
  {
    title: 'Scheduling exports',
    paragraphs: [
      'Any profile can run on a schedule. In the Schedule tab choose a preset such as Every weekday at 06:30, or write a cron expression in the Advanced field; 0 30 6 * * 1-5 means the same thing. Scheduled runs are executed by the background agent in the time zone of the computer.',
      'When the computer was off at the scheduled time, the Missed runs setting decides what happens. Skip ignores the missed run. Catch up runs it once as soon as the agent starts again, even if several runs were missed; this is the default.',
      'A profile can run at most once at a time. If a run is still busy when the next one is due, the new run waits up to 15 minutes and is then recorded as skipped in the history.',
    ],
    facts: ['Catch up runs it once as soon as the agent starts again', 'the new run waits up to 15 minutes'],
  },
  {
    title: 'Incremental exports',
    paragraphs: [
      'Exporting a large table in full every night wastes time when only a few rows change. Incremental mode writes only rows that were added or modified since the previous successful run.',
      'To use it, choose a watermark column in the profile, usually a timestamp such as updated_at or an increasing identifier. After each successful run the agent records the highest value it saw; the next run asks the source only for rows above that value.',
      'Deleted rows cannot be detected this way. For that reason a complete export is made every tenth run by default; change Full refresh every N runs to adjust it, or set it to 0 to never refresh.',
    ],
    facts: ['choose a watermark column in the profile', 'a complete export is made every tenth run by default'],
  },
  {
    title: 'Filtering rows and choosing columns',
    paragraphs: [
      "The Filter box accepts conditions in a simple expression language, for example status = 'active' AND region IN ('EU', 'US'). Text comparisons ignore case unless you put the keyword EXACT in front of the value. Dates can be compared with relative terms such as today - 7 days.",
      'In the Columns list, untick columns to leave them out and drag them to change their order in the file. Columns whose names suggest personal data, such as email or phone, are marked with a shield icon so that they are not exported by accident.',
      'Filters run in the source database whenever possible, so exporting one region of a huge table is almost as fast as exporting a small one.',
    ],
    facts: ["status = 'active' AND region IN ('EU', 'US')", 'marked with a shield icon'],
  },
  {
    title: 'Large datasets and performance',
    paragraphs: [
      'Acme Exporter streams rows from the source to the file instead of loading the whole table into memory. Rows are fetched in batches of 50,000 by default; larger batches help on fast networks, smaller ones keep memory usage low on busy database servers.',
      'The Max memory setting caps what one export may use, 2048 MB by default. When the cap is reached, sorting and deduplication spill to temporary files on disk, which is slower but never fails for lack of memory.',
      'Parquet and CSV exports can use several parallel workers, four by default and at most sixteen. More workers only help when the source can serve several queries at once.',
    ],
    facts: ['fetched in batches of 50,000 by default', 'four by default and at most sixteen'],
  },
  {
    title: 'Compression and splitting files',
    paragraphs: [
      'Big exports are easier to move when they are split. Split files larger than controls the size at which a new part begins, 250 MB by default; each part is a complete file with its own header row.',
      'Parts are named with the pattern {name}_{date}_{part}, for example orders_2024-03-31_003.csv. The pattern can be changed in the destination settings; {time} and {profile} are also available.',
      'CSV and JSON Lines files can be compressed with gzip. The compression level ranges from 1, fastest, to 9, smallest; level 6 is the default and a good balance for most data.',
    ],
    facts: ['250 MB by default', 'level 6 is the default'],
  },
  {
    title: 'Destinations: local and network folders',
    paragraphs: [
      'The simplest destination is a folder on the same computer. Network shares work as well, but the background agent runs as a service and does not see drive letters that a user mapped in Explorer, such as Z:.',
      'Always enter network locations as UNC paths, for example \\\\fileserver\\exports\\finance. The service account needs write permission on the share; see the chapter about running as a service for how to choose that account.',
      'Files are first written with the extension .partial and renamed when complete, so that other programs never pick up half-written exports.',
    ],
    facts: ['does not see drive letters that a user mapped', 'written with the extension .partial'],
  },
  {
    title: 'Destinations: cloud storage',
    paragraphs: [
      'Amazon S3, Azure Blob Storage and Google Cloud Storage are supported. For S3, enter the bucket name, the region and an optional key prefix; files larger than 64 MB are uploaded in parts, which can be retried individually if the connection drops.',
      'Credentials are read from the environment of the agent in the usual way for each cloud, for example AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or an instance role. They can also be stored encrypted in the destination settings.',
      'Server-side encryption is requested automatically. To use a customer-managed key, paste the key identifier into the KMS key field.',
    ],
    facts: ['files larger than 64 MB are uploaded in parts', 'paste the key identifier into the KMS key field'],
  },
  {
    title: 'Destinations: SFTP servers',
    paragraphs: [
      'SFTP destinations connect on port 22 unless you enter another port. Authentication by key is recommended; ed25519 and RSA keys of at least 3072 bits are accepted, and keys with a passphrase are supported.',
      'The first connection shows the server fingerprint and asks you to confirm it. The fingerprint is then pinned in the known hosts file of the agent, and a later change makes uploads fail with error E-2305 until an administrator confirms the new key.',
      'Uploads time out after 30 seconds without progress. Slow links may need a longer Upload timeout in the destination settings.',
    ],
    facts: ['ed25519 and RSA keys of at least 3072 bits', 'fail with error E-2305'],
  },
  {
    title: 'Email delivery',
    paragraphs: [
      'Exports can be emailed to a list of recipients after each run. Files up to 20 MB are attached directly. Larger exports are uploaded to the Acme file service and the email contains a download link that expires after 7 days.',
      'Outgoing mail uses the SMTP server configured in Preferences > Email, with STARTTLS on port 587 by default. Test the settings with Send test message before relying on them.',
      'The subject line can contain the placeholders {profile}, {rows} and {status}, so that recipients see at a glance whether the run succeeded.',
    ],
    facts: ['Files up to 20 MB are attached directly', 'a download link that expires after 7 days'],
  },
  {
    title: 'Notifications and webhooks',
    paragraphs: [
      'A webhook lets another system react to finished exports. In the Notifications tab of a profile, enter a URL and choose whether to call it on success, on failure or both. The request is an HTTP POST with a JSON body describing the run.',
      'Every request is signed: the header X-Acme-Signature carries an HMAC-SHA256 of the body computed with the secret shown in the webhook settings. Verify it on the receiving side and reject requests without a valid signature.',
      'If the receiver does not answer with a 2xx status, the call is retried five times with growing delays, the last attempt about one hour after the first.',
    ],
    facts: ['the header X-Acme-Signature carries an HMAC-SHA256', 'retried five times with growing delays'],
  },
  {
    title: 'Backing up the configuration',
    paragraphs: [
      'The agent makes a backup of the whole configuration every night at 02:00 local time: preferences, profiles, schedules, destinations and stored credentials, the latter still encrypted. Exported data is not part of the backup.',
      'Backups are kept in the backups folder next to the configuration, and the newest 14 are retained; older ones are deleted automatically. Set backup.keep in exporter.toml to keep more, or backup.folder to store them elsewhere, preferably on another disk.',
      'You can also make a backup at any moment with File > Back up configuration now. A backup is a single .axbak file.',
    ],
    facts: ['every night at 02:00 local time', 'the newest 14 are retained'],
  },
  {
    title: 'Restoring from a backup',
    paragraphs: [
      'Restoring replaces the current configuration with the contents of a backup. Profiles that were created after the backup was made are lost, so export them first if you need them.',
      {
        steps: [
          'Stop all running exports and close the console on other computers that share the configuration.',
          'Choose File > Restore configuration and select the .axbak file.',
          'Review the list of profiles and destinations that will be restored and confirm.',
          'Restart the agent so that the restored schedules take effect.',
        ],
      },
      'On servers without a desktop, run acme-exporter restore --from /path/to/file.axbak as the acme-exporter user instead.',
    ],
    facts: ['Profiles that were created after the backup was made are lost', 'acme-exporter restore --from'],
  },
  {
    title: 'Keyboard shortcuts',
    paragraphs: [
      'Most actions in the console have keyboard shortcuts. On macOS use the Command key wherever Ctrl is shown.',
      {
        bullets: [
          'Ctrl+E starts the export that is open in the designer.',
          'Ctrl+Shift+P opens the list of profiles.',
          'F5 refreshes the data preview.',
          'Ctrl+K opens the command palette, where every action can be found by name.',
          'Esc cancels a running export after asking for confirmation.',
          'Ctrl+Alt+H shows the run history of the current profile.',
        ],
      },
      'Shortcuts can be changed under Preferences > Keyboard. Conflicting assignments are highlighted in red.',
    ],
    facts: ['Ctrl+K opens the command palette', 'Esc cancels a running export after asking for confirmation'],
  },
  {
    title: 'Command-line interface',
    paragraphs: [
      'The acme-exporter command runs profiles without the console, which is useful in scripts and other schedulers. acme-exporter run --profile "Monthly sales" runs one profile and waits until it finishes.',
      'Add --dry-run to check the source connection and count rows without writing files. Use --output to override the destination folder for one run.',
      'The command exits with status 0 on success, 3 when the source could not be read and 4 when the destination could not be written, so that scripts can react to each case.',
    ],
    facts: ['acme-exporter run --profile', 'exits with status 0 on success, 3 when the source could not be read'],
  },
  {
    title: 'Billing and invoices',
    paragraphs: [
      'Acme Exporter is billed per seat, either monthly or annually; annual billing costs two months less than twelve monthly payments. Each seat is one named user, not one computer.',
      'Invoices are issued on the first day of each billing period and sent to the billing contact by email. All invoices can be downloaded as PDF from the Billing portal, which only Owners can open.',
      'Prices exclude VAT. Business customers in the European Union can enter a VAT number in the Billing portal to be invoiced under the reverse charge procedure.',
    ],
    facts: [
      'annual billing costs two months less than twelve monthly payments',
      'Invoices are issued on the first day of each billing period',
    ],
  },
  {
    title: 'Changing or cancelling your plan',
    paragraphs: [
      'Upgrades take effect at once; you pay the difference for the rest of the billing period. Downgrades and seat reductions take effect at the end of the current period, so nothing you already paid for is lost.',
      'To cancel, open the Billing portal and choose Cancel subscription. The workspace stays fully usable until the end of the paid period and becomes read-only afterwards; scheduled exports stop.',
      'Annual plans can be refunded in full within 14 days of purchase. After that, annual plans are not refunded but remain usable until they expire.',
    ],
    facts: ['Downgrades and seat reductions take effect at the end of the current period', 'refunded in full within 14 days of purchase'],
  },
  {
    title: 'Payment methods',
    paragraphs: [
      'Visa, Mastercard and American Express are accepted for all plans. Customers in the euro area can also pay by SEPA direct debit, which needs a mandate signed once in the Billing portal.',
      'Annual plans with more than 20 seats can be paid by bank transfer against an invoice, with payment terms of 30 days. Ask the sales team to switch an existing subscription to invoice payment.',
      'If a card payment fails, the payment is retried after three, five and seven days, and the Owner receives an email each time. The workspace is suspended only after the last attempt fails.',
    ],
    facts: ['SEPA direct debit', 'retried after three, five and seven days'],
  },
  {
    title: 'User accounts and roles',
    paragraphs: [
      'Each person signs in with their own account. Four roles control what they can do. Owners manage billing and can do everything else. Admins manage users, destinations and credentials. Editors create and change profiles and run exports.',
      'Viewers can look at profiles, previews and run history but cannot start exports or change anything. The Viewer role does not use a paid seat.',
      'Roles are assigned in Workspace > Members. A workspace always has at least one Owner; the last Owner cannot be removed or demoted.',
    ],
    facts: ['Viewers can look at profiles, previews and run history but cannot start exports', 'The Viewer role does not use a paid seat'],
  },
  {
    title: 'Permissions on data sources',
    paragraphs: [
      'Acme Exporter only reads from data sources. Connect with a database account that has read-only rights on the tables and views you export, for example with GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO acme_export.',
      'Never use an administrator account for exports. If the credentials are ever exposed, a read-only account limits what an attacker can do.',
      'Incremental exports also need read access to the watermark column. Row-level security policies in the database are respected, so an export only contains rows the account is allowed to see.',
    ],
    facts: ['GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO acme_export', 'Row-level security policies in the database are respected'],
  },
  {
    title: 'Single sign-on',
    paragraphs: [
      'Workspaces on the Business and Enterprise plans can sign in through an identity provider using SAML 2.0 or OpenID Connect. Okta, Microsoft Entra ID and Google Workspace have been tested.',
      'With just-in-time provisioning, an account is created the first time someone signs in through the identity provider, with the Viewer role. SCIM 2.0 provisioning keeps accounts and group-based roles in sync and removes people who leave.',
      'Once single sign-on is enforced, password sign-in is disabled for everyone except one break-glass Owner account kept for emergencies.',
    ],
    facts: ['SAML 2.0 or OpenID Connect', 'one break-glass Owner account kept for emergencies'],
  },
  {
    title: 'Two-factor authentication',
    paragraphs: [
      'Two-factor authentication protects accounts that sign in with a password. Any authenticator app that supports time-based one-time passwords can be used, such as Google Authenticator or 1Password.',
      'When you turn it on you receive 10 recovery codes. Each works once; keep them somewhere safe, because they are the only way back in if the phone is lost.',
      'Admins can require two-factor authentication for the whole workspace under Workspace > Security. Members without it are asked to set it up at their next sign-in.',
    ],
    facts: ['you receive 10 recovery codes', 'require two-factor authentication for the whole workspace'],
  },
  {
    title: 'Audit log',
    paragraphs: [
      'The audit log records who did what: sign-ins, exports started and finished, profile changes, changes to destinations and credentials, and changes to members and roles.',
      'Entries are kept for 365 days. Admins can filter them by person, action and period in Workspace > Audit log, and download the filtered list as a CSV file for a compliance review.',
      'Entries cannot be edited or deleted by anyone, including Owners.',
    ],
    facts: ['Entries are kept for 365 days', 'cannot be edited or deleted by anyone, including Owners'],
  },
  {
    title: 'Proxy configuration',
    paragraphs: [
      'In networks where the internet is only reachable through a proxy server, enter it under Preferences > Network > Proxy, for example http://proxy.corp.example:3128. The agent also honours the HTTPS_PROXY and NO_PROXY environment variables when no proxy is configured in the program.',
      'Proxies that require a login are supported with Basic and NTLM authentication. Automatic configuration through a PAC file is not supported; enter the proxy address explicitly.',
      'If the proxy rejects the credentials, exports to cloud destinations fail with error E-2107, proxy authentication required. Add internal addresses such as the database server to the bypass list so that they are reached directly.',
    ],
    facts: ['Automatic configuration through a PAC file is not supported', 'Basic and NTLM authentication'],
  },
  {
    title: 'TLS and certificates',
    paragraphs: [
      'All connections to the licence server, cloud storage and webhooks use TLS 1.2 or newer. Older protocol versions are refused even if the other side offers them.',
      'Companies that inspect TLS traffic with their own certificate authority must make that authority known to the program: set tls.ca_file in exporter.toml to a PEM file containing the company root certificate.',
      'Certificate errors are shown with the name of the server and the reason, for example an expired certificate or an unknown issuer. Turning verification off is not possible.',
    ],
    facts: ['TLS 1.2 or newer', 'set tls.ca_file in exporter.toml to a PEM file'],
  },
  {
    title: 'Firewall and network ports',
    paragraphs: [
      'The program needs outbound HTTPS on port 443 to licence.acme.example for activation and the weekly check-in, and to updates.acme.example for updates. Destinations need their own ports, for example 22 for SFTP.',
      'The console talks to the agent on local port 7420. If another program already uses that port, change agent.port in exporter.toml on the machine and restart both the console and the agent.',
      'No inbound connections from the internet are ever required.',
    ],
    facts: ['outbound HTTPS on port 443 to licence.acme.example', 'change agent.port in exporter.toml'],
  },
  {
    title: 'Data sources: databases',
    paragraphs: [
      'Built-in connectors cover PostgreSQL 12 and later, MySQL 8, MariaDB 10.6, Microsoft SQL Server 2019 and 2022, Oracle Database 19c and Snowflake. Other databases can be reached through an ODBC driver installed on the same machine.',
      'A connection is defined once in Workspace > Data sources and can be used by any number of profiles. Passwords are encrypted with a key that is unique to the workspace.',
      'Queries are cancelled after 300 seconds by default. Long-running reports may need a higher Query timeout in the connection settings.',
    ],
    facts: ['Oracle Database 19c and Snowflake', 'Queries are cancelled after 300 seconds by default'],
  },
  {
    title: 'Data sources: spreadsheets and files',
    paragraphs: [
      'CSV, XLSX and Parquet files can be used as sources too, for example to convert a spreadsheet into Parquet or to combine monthly files into one export.',
      'For CSV sources the program detects the delimiter, the encoding and whether the first row contains column names. Detection reads the first 1,000 lines; correct it in the source settings when a file starts with unusual rows.',
      'A folder can be used as a source with a file name pattern such as sales_*.csv. All matching files are read in alphabetical order and must share the same columns.',
    ],
    facts: ['Detection reads the first 1,000 lines', 'All matching files are read in alphabetical order'],
  },
  {
    title: 'Data sources: web APIs',
    paragraphs: [
      'The REST connector reads JSON from web APIs. Enter the base URL and the path of the list to export, then describe how the API pages through results: by cursor, by page number or by offset.',
      'Authentication can be a bearer token, an API key in a header of your choice, or OAuth 2.0 client credentials. Tokens are refreshed automatically before they expire.',
      'When the API answers 429 Too Many Requests, the connector waits for the time given in the Retry-After header and continues. Requests per second can also be limited explicitly to stay below a known quota.',
    ],
    facts: ['by cursor, by page number or by offset', 'waits for the time given in the Retry-After header'],
  },
  {
    title: 'Data privacy and masking',
    paragraphs: [
      'Masking rules change sensitive values as they are exported, so that the files never contain them in clear. Hash replaces a value by its SHA-256 digest with a workspace salt, which keeps values joinable across exports without revealing them.',
      'Redact replaces the value by a fixed text such as [removed]. Truncate keeps only the first characters, for example the first three digits of a postal code.',
      'Rules are attached to columns in the profile and can be enforced for all profiles by an Admin, which helps with obligations under the GDPR.',
    ],
    facts: ['SHA-256 digest with a workspace salt', 'Truncate keeps only the first characters'],
  },
  {
    title: 'Logging',
    paragraphs: [
      'The agent and the console write log files to the logs folder inside the configuration folder. Each file is rotated at 20 MB and the last 10 files are kept.',
      'The log level is normally info. Set logging.level = "debug" in exporter.toml, or start the command-line tool with --verbose, to record every query and every file operation while investigating a problem.',
      'Logs never contain passwords or exported values, but they do contain table and column names and the text of filters.',
    ],
    facts: ['rotated at 20 MB and the last 10 files are kept', 'Logs never contain passwords or exported values'],
  },
  {
    title: 'Error codes E-1000 to E-1999: sources',
    paragraphs: [
      'Codes from E-1000 to E-1999 mean that the data source could not be read. E-1001, connection refused, means that nothing answered at the host and port of the connection: check the address and that the database server is running.',
      'E-1004, authentication failed, means that the user name or password was rejected; remember that passwords of database accounts often expire. E-1009 means the account lacks permission on a table.',
      'E-1012, query timeout, means the source did not return rows within the query timeout. Raise Query timeout, add an index on the filtered columns, or export a smaller range.',
    ],
    facts: ['E-1001, connection refused', 'E-1012, query timeout'],
  },
  {
    title: 'Error codes E-2000 to E-2999: destinations',
    paragraphs: [
      'Codes from E-2000 to E-2999 concern the destination. E-2001 means the disk or share ran out of space while writing; the partial file is removed. E-2040 means permission denied on the destination folder, usually for the service account of the agent.',
      'E-2107 is returned when a proxy requires authentication that failed. E-2210 means access denied by cloud storage: check the bucket policy and that the credentials belong to the right account.',
      'E-2305 means the host key of an SFTP server changed since it was pinned. Confirm the new key only after checking with the server administrator.',
    ],
    facts: ['E-2040 means permission denied on the destination folder', 'E-2210 means access denied by cloud storage'],
  },
  {
    title: 'Error codes E-3000 to E-3999: licence and system',
    paragraphs: [
      'E-3003 means the licence has expired. Renew the subscription or enter a new key; exports resume at once. E-3010 means that all seats of the key are in use on other machines.',
      'E-3099 is shown when the clock of the computer differs from the licence server by more than five minutes. Turn on automatic time synchronisation in the operating system.',
      'E-3500 means that the configuration file could not be parsed. The message names the line; fix the file or restore it from a backup.',
    ],
    facts: ['E-3003 means the licence has expired', 'differs from the licence server by more than five minutes'],
  },
  {
    title: 'Troubleshooting slow exports',
    paragraphs: [
      'Most slow exports are slow at the source. Run the profile with --dry-run: if counting rows is slow as well, the query needs an index or a narrower filter.',
      'If reading is fast but writing is slow, check the destination: network shares over VPN links and small cloud upload parts are common causes. Increasing the batch size helps when many small round trips to the database dominate.',
      'When you contact support, attach a diagnostic bundle created with Help > Create diagnostic bundle. It contains logs and settings but no exported data and no passwords.',
    ],
    facts: ['Run the profile with --dry-run', 'Help > Create diagnostic bundle'],
  },
  {
    title: 'Updating Acme Exporter',
    paragraphs: [
      'The program checks for updates every 24 hours and installs them when no export is running. Choose the Stable or Beta channel under Preferences > Updates; Beta receives new features about four weeks earlier.',
      'Administrators who roll out updates centrally can disable automatic updates with updates.auto = false and distribute the installer themselves.',
      'If an update causes problems, install the previous version over it; the configuration is kept, and the format of profiles stays compatible within version 4.',
    ],
    facts: ['checks for updates every 24 hours', 'updates.auto = false'],
  },
  {
    title: 'Uninstalling',
    paragraphs: [
      'On Windows, remove Acme Exporter under Settings > Apps > Installed apps. On macOS drag the application to the bin and run acme-exporter-uninstall to remove the agent. On Linux use sudo apt remove acme-exporter.',
      'Uninstalling keeps the configuration folder with profiles, backups and logs, so that a reinstall picks up where you left off. To delete everything, use the purge option, sudo apt purge acme-exporter on Linux, or remove the folder by hand.',
      'Release the licence seat before uninstalling on a computer that will not be used again.',
    ],
    facts: ['Uninstalling keeps the configuration folder', 'sudo apt purge acme-exporter'],
  },
  {
    title: 'Running the agent as a service',
    paragraphs: [
      'On Windows the agent runs as the service AcmeExporterAgent under the LocalService account. That account cannot write to network shares; change the service to log on as a domain account with access to the share.',
      'On Linux the agent is the systemd unit acme-exporter.service, running as the acme-exporter user. Use systemctl status acme-exporter to see whether it runs, and journalctl -u acme-exporter for its output.',
      'The agent restarts automatically after a crash, at most three times within ten minutes.',
    ],
    facts: ['the service AcmeExporterAgent under the LocalService account', 'systemctl status acme-exporter'],
  },
  {
    title: 'Accessibility and languages',
    paragraphs: [
      'The console is available in English, German, French, Spanish and Japanese. Change the language under Preferences > General > Language; the change takes effect after a restart.',
      'All controls can be reached with the keyboard and are labelled for screen readers such as NVDA, JAWS and VoiceOver. A high-contrast theme is included and follows the operating system setting by default.',
      'Exported files are not translated: column names and values are written exactly as they come from the source.',
    ],
    facts: ['English, German, French, Spanish and Japanese', 'the change takes effect after a restart'],
  },
  {
    title: 'Getting support',
    paragraphs: [
      'Open a ticket in the support portal or write to support@acme.example. First responses arrive within two business days on Starter, one business day on Team and four hours on Business and Enterprise, during business hours in Central European Time.',
      'Enterprise customers also have a named technical account manager and an emergency phone line for outages.',
      'Include the version number, the error code if there is one, and a diagnostic bundle. Please do not send exported data unless support asks for a sample.',
    ],
    facts: ['four hours on Business and Enterprise', 'an emergency phone line for outages'],
  },
  {
    title: 'Version history',
    paragraphs: [
      'Version 4.2 added Zstandard compression for Parquet, masking rules that Admins can enforce, and the REST connector. Version 4.1 added SFTP destinations and SCIM provisioning.',
      'Version 4.0 introduced the background agent and removed the legacy XML export format; convert old XML jobs to JSON Lines profiles with the migration assistant.',
      'Version 3 is no longer supported and receives no security fixes.',
    ],
    facts: ['Version 4.1 added SFTP destinations', 'removed the legacy XML export format'],
  },
];

// A further paragraph per page: more specific detail, and neighbours for retrieval to tell apart.
const MORE: Record<number, string> = {
  1: 'Throughout this guide, examples use a workspace called Northwind Trading with a PostgreSQL sales database, a finance share on a Windows file server and an S3 bucket named northwind-exports. Replace these names with your own.',
  2: 'Virtual machines are supported on VMware, Hyper-V and KVM. Give the virtual machine at least two processor cores; with a single core the preview and a running export compete and the console feels sluggish.',
  3: 'Group Policy deployments can use the same MSI package. Assign it to computers rather than users, so that the agent service is installed before anybody signs in, and pass the licence key through a transform file.',
  4: 'Headless Linux servers do not need the console at all. Install the acme-exporter-agent package instead of the full one, manage profiles from another machine, and let the agent on the server run them.',
  5: 'Trial licences run for 21 days with all Business features and a limit of 10,000 rows per export. Converting a trial into a paid subscription keeps every profile, schedule and destination you created.',
  6: 'Nothing is written to the source during an export, and the preview reads at most 200 rows, so it is safe to experiment with production databases while you learn how the designer works.',
  7: 'For CSV, values containing the delimiter, quotes or line breaks are enclosed in double quotes, and quotes inside values are doubled, following RFC 4180. Choose Always quote to enclose every value.',
  8: 'Number formats follow the locale of the export, not of the computer. Set Locale to de-DE, for example, to get a comma as decimal separator and a point as thousands separator in CSV files meant for German spreadsheets.',
  9: 'A common question is why the designer forgets the semicolon delimiter after a restart: it does so until Remember last used settings is enabled, because only profiles are saved automatically.',
  10: 'Profiles can be locked by an Admin. A locked profile can still be run by Editors, but its format, filters and destination can only be changed by Admins, which protects exports that feed other systems.',
  11: 'Schedules can be paused without deleting them with the Pause switch in the Profiles list, for example during database maintenance. A paused profile shows a grey clock icon and does not catch up when resumed.',
  12: 'Incremental files contain only the new and changed rows, so downstream systems have to merge them. Tick Write change marker to add a column named _acme_op with the value insert or update to every row.',
  13: 'Saved filters can be reused across profiles: write the condition once in Workspace > Saved filters, give it a name such as only_paid_orders, and pick it from the Filter box of any profile.',
  14: 'On database servers under load, set a lower priority for exports with Source priority = low; the agent then pauses between batches whenever the server reports more than 80 percent processor use.',
  15: 'Compressed files get the additional extension .gz, for example orders_2024-03-31_001.csv.gz. Most spreadsheet programs cannot open compressed files directly, so leave compression off for exports that people open by hand.',
  16: 'When the destination folder does not exist, the agent creates it, including missing parent folders. Turn off Create missing folders to make such exports fail instead, which catches typing mistakes in paths.',
  17: 'Each cloud destination has a Test button that uploads and deletes a small file named acme-write-test.txt, which proves that the credentials allow writing before the first real export runs.',
  18: 'Some SFTP servers only allow uploads into an incoming folder and move files away immediately. For those servers switch off Verify upload, which otherwise reads the file size back after writing.',
  19: 'Recipients outside the workspace only receive download links, never attachments, when the workspace option Restrict external attachments is enabled by an Owner.',
  20: 'Slack and Microsoft Teams notifications are set up the same way as webhooks, using the incoming webhook address of a channel; the message then shows the profile, the row count and a link to the run.',
  21: 'Backups are encrypted with the workspace key. A backup can therefore only be restored into the same workspace, or into a new installation after the workspace key has been imported from the customer portal.',
  22: 'A restore never deletes exported files or run history. Schedules restored from an older backup may immediately catch up missed runs, so pause profiles first if that would cause duplicate deliveries.',
  23: 'In the data preview, Ctrl+F searches the visible rows, Ctrl+C copies the selected cells as tab-separated text, and Ctrl+plus and Ctrl+minus change the font size of the grid.',
  24: 'The command-line tool reads the same configuration as the agent. Run it as the same operating system user, or pass --config with the path of exporter.toml, otherwise it will not find the profiles.',
  25: 'Seats can be added at any time and are charged pro rata for the rest of the billing period. The Billing portal shows the number of seats in use next to the number paid for.',
  26: 'Moving from monthly to annual billing is treated as an upgrade: it takes effect immediately and the unused part of the current month is credited against the first annual invoice.',
  27: 'The billing contact can differ from the Owner; enter an accounts payable address in the Billing portal so that invoices and payment reminders reach the right people.',
  28: 'Custom roles are available on the Enterprise plan. They combine individual permissions, such as running exports without editing profiles, for teams with stricter separation of duties.',
  29: 'For Oracle sources the account additionally needs SELECT on the dictionary views ALL_TAB_COLUMNS and ALL_CONSTRAINTS, which the designer uses to list columns and keys.',
  30: 'Group claims from the identity provider can be mapped to roles, for example members of the group data-engineering become Editors. Changes to group membership apply at the next sign-in.',
  31: 'Security keys that support FIDO2, such as YubiKey, can be registered in addition to an authenticator app. Accounts with a security key can sign in without typing a one-time code.',
  32: 'Enterprise workspaces can stream audit entries to a SIEM system through syslog or a webhook in real time, in addition to keeping them in the workspace.',
  33: 'Environment variables are read once when the agent starts, so restart the agent service after changing them. Proxy settings entered in the console apply to the agent and the console alike.',
  34: 'Client certificates for mutual TLS can be configured per destination; the certificate and its private key are stored encrypted like other credentials.',
  35: 'Outbound connections to data sources use their usual ports, for example 5432 for PostgreSQL, 3306 for MySQL and 1433 for SQL Server, and must be allowed from the machine running the agent.',
  36: 'Read replicas are a good choice for heavy exports: point the connection at a replica, and the primary database that serves your applications is not affected by long-running queries.',
  37: 'Excel files with several sheets can be read one sheet at a time or all sheets together; in the latter case a column named _sheet tells which sheet each row came from.',
  38: 'Nested JSON objects are flattened into columns with dotted names such as customer.address.city. Arrays are written as JSON text unless Explode arrays is chosen, which creates one row per element.',
  39: 'Masked columns are marked in the History tab of each run, so that auditors can verify which rules were applied to a particular file without opening it.',
  40: 'Debug logging makes log files grow quickly and slows exports down. Remember to set the level back to info when the investigation is over.',
  41: 'Troubleshooting tip: when an export fails with E-1004 although the password is right, check whether the database requires encrypted connections.',
  42: 'Destination errors never leave half-written files behind: the agent removes the .partial file and the previous export, if any, stays in place untouched.',
  43: 'E-3020 means that the workspace has been suspended because of an unpaid invoice; exports start again automatically once the payment arrives.',
  44: 'XLSX is the slowest format to write, because the whole sheet is assembled before it is saved. For exports above one million rows, Parquet or CSV are many times faster.',
  45: 'The Beta channel is not recommended for servers that deliver data to other systems. Release notes for every version are shown in the console after an update.',
  46: 'Uninstalling the program does not cancel the subscription. Cancel it separately in the Billing portal if the workspace is no longer needed.',
  47: 'On macOS the agent is a launch daemon named com.acme.exporter.agent. Check it with sudo launchctl print system/com.acme.exporter.agent.',
  48: 'Dates and numbers in the console follow the regional format of the operating system, independently of the chosen language.',
  49: 'The status page at status.acme.example shows incidents affecting the licence server, the file service and the Cloud API.',
  50: 'Version 4.2.1 fixed a problem where scheduled exports ran one hour late after a change to daylight saving time.',
};

export interface ManualFact {
  page: number;
  topic: string;
  fact: string;
}

export const MANUAL_TITLE = 'Acme Exporter 4 Administrator Guide';

/** What sits where in longManual(): one to two literal facts per page (pages 1–50). */
export const manualFacts: ManualFact[] = MANUAL.flatMap((p, i) => p.facts.map((fact) => ({ page: i + 1, topic: p.title, fact })));

/** The source text of each manual page (pages 1–50), for writing questions against any sentence. */
export const manualPages: { page: number; topic: string; paragraphs: string[] }[] = MANUAL.map((p, i) => ({
  page: i + 1,
  topic: p.title,
  paragraphs: [
    ...p.paragraphs.flatMap((para) => (typeof para === 'string' ? [para] : 'steps' in para ? para.steps : para.bullets)),
    ...(MORE[i + 1] ? [MORE[i + 1]!] : []),
  ],
}));

export interface ManualLayout {
  pdf: Buffer;
  /** Words the generator hyphenated at a line end, with their page. */
  hyphenations: Hyphenation[];
  /** Topic of each page (index 0 = page 1). */
  topics: string[];
}

/** The manual with the facts of its layout. Pages past the 50 topics repeat them as appendices. */
export async function longManualWithLayout(pages = 50): Promise<ManualLayout> {
  const hyphenations: Hyphenation[] = [];
  const topics: string[] = [];
  const pdf = await render((doc) => {
    for (let p = 1; p <= pages; p++) {
      const topic = MANUAL[(p - 1) % MANUAL.length]!;
      const round = Math.floor((p - 1) / MANUAL.length);
      const title = round === 0 ? topic.title : `${topic.title} (appendix ${round})`;
      topics.push(title);
      doc.addPage();
      doc.outline.addItem(`${p}. ${title}`);
      const ps = new PageSetter(doc, p, hyphenations);
      ps.line(MANUAL_TITLE, { size: 8, color: '#666666', lineHeight: 26 });
      ps.heading(`${p}. ${title}`);
      for (const para of topic.paragraphs) {
        if (typeof para === 'string') ps.paragraph(para);
        else if ('steps' in para) ps.list(para.steps, true);
        else ps.list(para.bullets, false);
      }
      const more = MORE[((p - 1) % MANUAL.length) + 1];
      if (more) ps.paragraph(more);
      footer(ps, `Acme Exporter 4 Administrator Guide · page ${p} of ${pages}`);
      ps.flush();
    }
  });
  return { pdf, hyphenations, topics };
}

export async function longManual(pages = 50): Promise<Buffer> {
  return (await longManualWithLayout(pages)).pdf;
}

/** The manual's text set as full pages (10.5 pt, ~3,000 characters a page, ~4 chunks each). */
export async function fullPagesManual(pages = 50): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'LETTER', margin: 72, info: { Title: 'full pages', CreationDate: new Date(0) } });
  const parts: Buffer[] = [];
  doc.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(parts))));
  let count = 1;
  doc.on('pageAdded', () => count++);
  doc.font('Helvetica').fontSize(10.5);
  const paragraphs = manualPages.flatMap((p) => [p.topic, ...p.paragraphs]);
  for (let i = 0; count < pages; i++) doc.text(paragraphs[i % paragraphs.length]!, { paragraphGap: 6 });
  doc.end();
  return done;
}

/** Two pages: page 1 breaks "read-only" at a line end, page 2 has it whole (so the hyphen stays). */
export async function hyphenAcrossPagesPdf(): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'LETTER', margin: 72, info: { CreationDate: new Date(0) } });
  const parts: Buffer[] = [];
  doc.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(parts))));
  doc.font('Helvetica').fontSize(11);
  doc.text('Scheduled exports keep the owner, the schedule and the read-', 72, 100, { lineBreak: false });
  doc.text('only flag of every shared folder when the job runs again.', 72, 114, { lineBreak: false });
  doc.addPage();
  doc.text('A shared folder that is read-only stays read-only after an export.', 72, 100, { lineBreak: false });
  doc.end();
  return done;
}

// ---------------------------------------------------------------------------------------------
// Tables

export interface TableFact {
  page: number;
  table: string;
  /** The cells of one row, left to right, exactly as drawn. */
  row: string[];
}

const PRICE_HEADER = ['Plan', 'Monthly (per seat)', 'Annual (per seat)', 'Seats included', 'Storage'];
const PRICE_ROWS = [
  ['Starter', '$12', '$120', '1 to 5', '10 GB'],
  ['Team', '$29', '$290', '3 to 50', '100 GB'],
  ['Business', '$59', '$590', '10 to 500', '1 TB'],
  ['Enterprise', 'Contact sales', 'Contact sales', 'Unlimited', 'Unlimited'],
];
const LIMIT_HEADER = ['Limit', 'Starter', 'Team', 'Business', 'Enterprise'];
const LIMIT_ROWS = [
  ['Scheduled profiles', '5', '50', '500', 'Unlimited'],
  ['Exports per day', '20', '500', '5,000', 'Unlimited'],
  ['Largest single file', '2 GB', '20 GB', '200 GB', '1 TB'],
  ['API requests per minute', '60', '600', '3,000', '10,000'],
  ['Run history kept', '30 days', '90 days', '1 year', '3 years'],
  ['Audit log', 'No', 'No', 'Yes', 'Yes'],
  ['Single sign-on', 'No', 'No', 'Yes', 'Yes'],
];
const API_ERROR_HEADER = ['Code', 'HTTP status', 'Meaning', 'What to do'];
const API_ERROR_ROWS = [
  ['API-1001', '400', 'Malformed JSON body', 'Validate the request body'],
  ['API-1002', '400', 'Unknown field in body', 'Remove fields not in the schema'],
  ['API-2001', '401', 'Missing API token', 'Send Authorization: Bearer'],
  ['API-2002', '401', 'Token expired', 'Create a new token'],
  ['API-2003', '403', 'Token lacks scope', 'Add the exports:write scope'],
  ['API-3001', '404', 'Profile not found', 'Check the profile id'],
  ['API-4001', '409', 'Run already in progress', 'Wait for the run to finish'],
  ['API-4290', '429', 'Rate limit exceeded', 'Honour the Retry-After header'],
  ['API-5000', '500', 'Internal error', 'Retry, then contact support'],
  ['API-5030', '503', 'Maintenance window', 'Retry after 10 minutes'],
];
const REGION_HEADER = ['Region', 'Data centre', 'Endpoint', 'Added'];
const REGION_ROWS = [
  ['EU West', 'Frankfurt', 'eu1.api.acme.example', 'v4.0'],
  ['EU North', 'Stockholm', 'eu2.api.acme.example', 'v4.2'],
  ['US East', 'Virginia', 'us1.api.acme.example', 'v4.0'],
  ['US West', 'Oregon', 'us2.api.acme.example', 'v4.1'],
  ['Asia Pacific', 'Singapore', 'ap1.api.acme.example', 'v4.1'],
];

export const tableFacts: TableFact[] = [
  ...PRICE_ROWS.map((row) => ({ page: 1, table: 'Price tiers', row })),
  ...LIMIT_ROWS.map((row) => ({ page: 2, table: 'Limits per plan', row })),
  ...API_ERROR_ROWS.map((row) => ({ page: 3, table: 'API error codes', row })),
  ...REGION_ROWS.map((row) => ({ page: 4, table: 'API regions', row })),
];

/** Prose facts of tablesDoc() (literal fragments, with their page). */
export const tablesProseFacts: { page: number; fact: string }[] = [
  { page: 1, fact: 'Non-profit organisations receive 40% off any paid plan' },
  { page: 2, fact: 'Daily limits reset at midnight UTC regardless of the time zone' },
  { page: 3, fact: 'Every error response has a JSON body with the fields code, message and request_id' },
  { page: 4, fact: 'Data never leaves the region chosen when the workspace was created' },
];

/** Pricing and limits sheet: pages of tables drawn as aligned columns, with a little prose. */
export async function tablesDoc(): Promise<Buffer> {
  const hy: Hyphenation[] = [];
  return render((doc) => {
    const page = (n: number, title: string, intro: string, header: string[], rows: string[][], colX: number[], outro: string) => {
      doc.addPage();
      const ps = new PageSetter(doc, n, hy);
      ps.heading(title, 18);
      ps.paragraph(intro, { hyphenate: false });
      ps.gap(6);
      ps.table(header, rows, colX);
      ps.paragraph(outro, { hyphenate: false });
      footer(ps, `Acme Exporter plans and limits · page ${n}`);
      ps.flush();
    };
    page(
      1,
      'Price tiers',
      'Acme Exporter is sold in four plans. Prices are per seat and exclude VAT; annual prices are paid once a year in advance.',
      PRICE_HEADER,
      PRICE_ROWS,
      [0, 80, 200, 310, 410],
      'Non-profit organisations receive 40% off any paid plan on request. Education licences for schools and universities are free for up to 25 seats.',
    );
    page(
      2,
      'Limits per plan',
      'Each plan has usage limits. A workspace that reaches a limit keeps running exports that have already started but cannot start new ones until the limit resets.',
      LIMIT_HEADER,
      LIMIT_ROWS,
      [0, 150, 230, 310, 390],
      'Daily limits reset at midnight UTC regardless of the time zone of the workspace. Limits can be raised temporarily by support during migrations.',
    );
    page(
      3,
      'Cloud API error codes',
      'The Acme Cloud API reports errors with a stable code in addition to the HTTP status. Every error response has a JSON body with the fields code, message and request_id.',
      API_ERROR_HEADER,
      API_ERROR_ROWS,
      [0, 70, 145, 290],
      'Quote the request_id when contacting support about a failed API call. Codes are never reused for a different meaning.',
    );
    page(
      4,
      'API regions',
      'Workspaces are hosted in one of five regions. Data never leaves the region chosen when the workspace was created, including backups and logs.',
      REGION_HEADER,
      REGION_ROWS,
      [0, 110, 210, 380],
      'Moving a workspace to another region is done by support and takes up to two days, during which scheduled exports are paused.',
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Two columns

interface Article {
  title: string;
  paragraphs: string[];
}

const NEWSLETTER: { page: number; order: 'recorded' | 'rows'; left: Article[]; right: Article[] }[] = [
  {
    page: 1,
    order: 'rows', // drawn row by row across both columns: a naive reader interleaves them
    left: [
      {
        title: 'A bakery chain goes incremental',
        paragraphs: [
          'Brood & Co runs forty-two bakeries across the Netherlands and used to export its complete sales table every night, a job that took almost three hours and often ran into the morning shift. After switching the nightly profile to incremental mode with the column sold_at as watermark, the same export now finishes in eleven minutes.',
          'Their data team keeps a full refresh every tenth run to catch corrected receipts, and the files land in Azure Blob Storage where the forecasting model reads them before the ovens are switched on at four in the morning.',
          'The next step for Brood & Co is masking: the loyalty card numbers in the sales table will be hashed with a workspace salt, so that analysts can still count returning customers without ever seeing a card number.',
        ],
      },
    ],
    right: [
      {
        title: 'Inside the new Parquet writer',
        paragraphs: [
          'Version 4.2 brings a rewritten Parquet writer. Row groups are now sized by bytes instead of rows, which keeps memory flat for wide tables with long text columns. In our tests with the public taxi trip dataset, Zstandard level 3 produced files 31 percent smaller than Snappy while writing only 8 percent slower.',
          'Dictionary encoding is chosen per column by sampling the first row group, so columns with few distinct values such as country codes shrink dramatically. Timestamps are now written with microsecond precision and the UTC flag set, which fixes the shifted times that some readers showed before.',
          'Readers who want to compare the codecs themselves can switch a profile between Snappy and Zstandard in the Format options and look at the file sizes in the History tab after two runs.',
        ],
      },
    ],
  },
  {
    page: 2,
    order: 'recorded', // drawn column by column
    left: [
      {
        title: 'Ten tips from the support desk',
        paragraphs: [
          'The most frequent ticket last quarter was about mapped drive letters: the background agent runs as a service and cannot see them, so always use UNC paths for network destinations.',
          'The second most frequent was about spreadsheets showing garbled accents, which the byte order mark option fixes in older Excel versions. Third came proxy errors, nearly always E-2107 after a password change that was not entered in the proxy settings.',
          'Our support engineers also recommend creating a diagnostic bundle before changing anything, so that the state of the failing run is preserved for the investigation.',
        ],
      },
    ],
    right: [
      {
        title: 'Meet the community',
        paragraphs: [
          'The user group in Rotterdam meets on the second Thursday of every month in the public library, with a short talk followed by an open clinic where members bring their trickiest export problems.',
          'Members have published a shared collection of filter expressions for common accounting systems, including ready-made profiles for month-end closing that convert ledger exports into Parquet for the finance data warehouse.',
          'New members are welcome at any meeting; there is no registration, and the organisers provide coffee, stroopwafels and a projector for live demonstrations.',
        ],
      },
    ],
  },
  {
    page: 3,
    order: 'rows',
    left: [
      {
        title: 'Security corner',
        paragraphs: [
          'Webhook receivers should verify the X-Acme-Signature header on every request. We have seen integrations that accepted unsigned requests, which allows anyone who learns the address to trigger downstream jobs.',
          'Rotating the webhook secret is safe at any time: during a grace period of one hour both the old and the new secret produce valid signatures, so receivers can be updated without missed notifications.',
        ],
      },
    ],
    right: [
      {
        title: 'Coming in version 4.3',
        paragraphs: [
          'The next release will add Delta Lake as a destination format, column-level lineage in the run history, and a command palette action to duplicate a profile together with its schedule.',
          'Windows on ARM will become a supported platform, and the minimum macOS version moves to Sonoma. Beta builds are expected about four weeks before the stable release, as usual.',
        ],
      },
    ],
  },
];

export interface TwoColumnFact {
  page: number;
  column: 'left' | 'right';
  /** A sentence that wraps over several lines of its column. */
  sentence: string;
}

function firstSentences(text: string): string[] {
  return text.match(/[^.]+\./g)?.map((s) => s.trim()) ?? [];
}

/** Sentences of twoColumnDoc() with their page and column (long enough to wrap in a column). */
export const twoColumnFacts: TwoColumnFact[] = NEWSLETTER.flatMap((pg) =>
  (['left', 'right'] as const).flatMap((column) =>
    (column === 'left' ? pg.left : pg.right).flatMap((a) =>
      a.paragraphs
        .flatMap((p) =>
          firstSentences(p)
            .filter((s) => s.length > 120)
            .slice(0, 1),
        )
        .map((sentence) => ({ page: pg.page, column, sentence })),
    ),
  ),
);

/** The articles of twoColumnDoc() per page and column. */
export const newsletterPages: { page: number; column: 'left' | 'right'; title: string; paragraphs: string[] }[] = NEWSLETTER.flatMap((pg) =>
  (['left', 'right'] as const).flatMap((column) =>
    (column === 'left' ? pg.left : pg.right).map((a) => ({ page: pg.page, column, title: a.title, paragraphs: a.paragraphs })),
  ),
);

export const NEWSLETTER_TITLE = 'Acme Quarterly: news for Acme Exporter administrators';

/** A newsletter with a full-width title and two text columns per page. */
export async function twoColumnDoc(): Promise<Buffer> {
  const hy: Hyphenation[] = [];
  return render((doc) => {
    for (const pg of NEWSLETTER) {
      doc.addPage();
      const top = new PageSetter(doc, pg.page, hy);
      top.line(NEWSLETTER_TITLE, { font: 'Helvetica-Bold', size: 17, lineHeight: 24 });
      top.line(`Issue 12 · page ${pg.page}`, { size: 9, color: '#555555', lineHeight: 22 });
      const colW = 222;
      const gutter = PAGE_W - 2 * MARGIN - 2 * colW; // 24 pt
      const cols = (['left', 'right'] as const).map((side, i) => {
        const ps = new PageSetter(doc, pg.page, hy, MARGIN + i * (colW + gutter), colW, top.y);
        for (const a of side === 'left' ? pg.left : pg.right) {
          ps.heading(a.title, 12.5);
          for (const p of a.paragraphs) ps.paragraph(p, { font: 'Times-Roman', size: 10.5, hyphenate: false });
        }
        return ps;
      });
      const ops = [...top.ops, ...cols[0]!.ops, ...cols[1]!.ops];
      top.ops.length = 0;
      top.ops.push(...ops);
      footer(top, `Acme Quarterly · issue 12 · page ${pg.page}`);
      top.flush(pg.order);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Bad inputs

/** A readable-looking PDF that needs a password to open. */
export async function encryptedPdf(): Promise<Buffer> {
  const hy: Hyphenation[] = [];
  return render(
    (doc) => {
      doc.addPage();
      const ps = new PageSetter(doc, 1, hy);
      ps.heading('Confidential salary bands');
      ps.paragraph('This document is protected with a user password and must not be readable without it.');
      ps.flush();
    },
    { userPassword: 'acme-secret', ownerPassword: 'acme-owner', pdfVersion: '1.7' },
  );
}

function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A greyscale PNG that looks like a scanned page: dark bars where lines of text would be. */
function scannedPagePng(width: number, height: number, seed: number): Buffer {
  const raw = Buffer.alloc((width + 1) * height, 0xff);
  let state = seed;
  const rand = () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 8) / 0x1000000;
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter: none
    const inLine = y > 60 && y < height - 60 && y % 18 < 9;
    if (!inLine) continue;
    const lineNo = Math.floor(y / 18);
    const end = width - 50 - ((lineNo * 37) % 120);
    for (let x = 50; x < end; x++) {
      const wordGap = (x + lineNo * 13) % 47 < 6;
      raw[y * (width + 1) + 1 + x] = wordGap ? 0xf0 : 0x30 + Math.floor(rand() * 40);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Two pages that are only images (a scan without OCR): no text layer at all. */
export async function scannedPdf(): Promise<Buffer> {
  return render((doc) => {
    for (let p = 0; p < 2; p++) {
      doc.addPage();
      doc.image(scannedPagePng(510, 660, 7 + p), 0, 0, { width: PAGE_W, height: PAGE_H });
    }
  });
}

/** A %PDF- header followed by deterministic pseudo-random bytes. */
export function corruptPdf(size = 8192): Promise<Buffer> {
  const out = Buffer.alloc(size);
  out.write('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1');
  let state = 0x2545f491;
  for (let i = 16; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return Promise.resolve(out);
}

/** A valid five-page manual cut in half. */
export async function truncatedPdf(): Promise<Buffer> {
  const full = await longManual(5);
  return full.subarray(0, Math.floor(full.length / 2));
}

/** A PDF whose only text is spaces: it draws text, but none of it is visible. */
export async function whitespacePdf(): Promise<Buffer> {
  return render((doc) => {
    for (let p = 0; p < 2; p++) {
      doc.addPage();
      doc.font('Helvetica').fontSize(12);
      for (let i = 0; i < 20; i++) doc.text(' '.repeat(40), MARGIN, MARGIN + i * 16, { lineBreak: false });
    }
  });
}

/** The chapters navigationDoc() lists and sets, one a page from page 3. */
export const NAVIGATION_CHAPTERS = ['Export settings panel', 'Keeping settings between exports', 'Export profiles', 'Scheduling exports'];

/**
 * A guide that opens with a table of contents (page 1, dotted leaders) and an index (page 2),
 * then one chapter of the manual a page (pages 3–6), then a short content page (page 7).
 */
export async function navigationDoc(): Promise<Buffer> {
  const hy: Hyphenation[] = [];
  const chapters = NAVIGATION_CHAPTERS.map((title) => MANUAL.find((m) => m.title === title)!);
  return render((doc) => {
    doc.addPage();
    let ps = new PageSetter(doc, 1, hy);
    ps.heading('Contents');
    chapters.forEach((c, i) => ps.line(`${i + 1}. ${c.title} ${'.'.repeat(60 - c.title.length)} ${i + 3}`));
    ps.line(`Index ${'.'.repeat(60)} 2`);
    ps.flush();
    doc.addPage();
    ps = new PageSetter(doc, 2, hy);
    ps.heading('Index');
    for (const [term, pages] of [
      ['delimiter', '3, 4'],
      ['date format', '3'],
      ['defaults, keeping', '4'],
      ['exporter.toml', '4, 5'],
      ['profiles', '5'],
      ['remember last used settings', '4'],
      ['schedules', '6'],
      ['settings panel', '3'],
    ])
      ps.line(`${term} ${pages}`);
    ps.flush();
    chapters.forEach((c, i) => {
      doc.addPage();
      const p = new PageSetter(doc, i + 3, hy);
      p.heading(`${i + 1}. ${c.title}`);
      for (const para of c.paragraphs) if (typeof para === 'string') p.paragraph(para);
      p.flush();
    });
    doc.addPage();
    ps = new PageSetter(doc, 7, hy);
    ps.heading('Support');
    ps.paragraph('Phone support is open from 9 to 17 CET on weekdays.');
    ps.flush();
  });
}
