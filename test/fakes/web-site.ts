/**
 * The documentation site that test/fakes/web.ts serves: pages as data (titles, headings, known
 * sentences), the boilerplate around them, and their rendering to HTML, sitemaps and robots.txt.
 * Rendering is deterministic; links to the fake's own origin and to the second origin are written
 * as the placeholders ORIGIN, OTHER and OTHER_HOST, which the server replaces with real addresses.
 */
import { MANUAL_TITLE, manualFacts, manualPages } from '../support/pdfs.js';

export const ORIGIN = '@ORIGIN@';
export const OTHER = '@OTHER@';
/** host:port of the second origin (for protocol-relative and ftp: links). */
export const OTHER_HOST = '@OTHER_HOST@';

// ---------------------------------------------------------------------------------------------
// Page model

/**
 * A block of main content. Text may use three inline forms: `code`, **strong** and [text](href).
 * `p` is one paragraph given as its sentences; `ul`/`ol` items and table cells are plain lines.
 */
export type Block =
  | { p: string[] }
  | { ul: string[] }
  | { ol: string[] }
  | { code: string; lang?: string }
  | { table: { header: string[]; rows: string[][] } };

export interface SectionSpec {
  level: 1 | 2 | 3;
  heading: string;
  blocks: Block[];
}

/**
 * - `docs`: header, sidebar `<aside>`, `<main>` with breadcrumbs `<nav>`, `<article>` whose h1 sits
 *   in an `<header>` (as Docusaurus renders it), an article `<footer>` and pagination `<nav>`, a
 *   table-of-contents `<aside>`, site footer. Every docs, generated and archive page.
 * - `blog`: no `<main>`: header, `<article>` with a related-posts `<aside>` inside, footer.
 * - `bare`: no `<main>` and no `<article>`: the content is a `<div role="main">`.
 */
export type Layout = 'docs' | 'blog' | 'bare';

export type SitemapName = 'docs' | 'blog' | 'archive' | 'gen';

export interface PageSpec {
  /** Pathname, plus `?page=N` for the one page that has a significant query (the changelog). */
  path: string;
  kind: 'html' | 'pdf';
  /** The `<title>` text (for a PDF: the manual's printed title). */
  title: string;
  /** In order; the first is the h1. */
  sections: SectionSpec[];
  layout?: Layout;
  /** The sitemap that lists the page; null: none. */
  sitemap: SitemapName | null;
  /** Last-Modified of revision 1 (ISO date). */
  modified: string;
  /** PDF pages (longManual(n)); kind 'pdf' only. */
  pdfPages?: number;
}

// ---------------------------------------------------------------------------------------------
// Boilerplate: text around the main content that must never reach a chunk

export const BOILERPLATE = {
  cookieBanner: 'We use cookies to understand how the handbook is read. Accept all cookies or manage your preferences.',
  headerTagline: 'Webhooks you can trust, delivered once',
  headerNav: 'Sign in to the dashboard',
  sidebarTitle: 'Browse the handbook',
  sidebarPromo: 'Join the Relay community forum for weekly office hours.',
  toc: 'On this page',
  breadcrumb: 'Handbook home',
  editLink: 'Suggest an edit to this page',
  pagination: 'Next article',
  relatedPosts: 'More from the engineering blog',
  footerCopyright: '© 2024 Acme Relay Ltd. All rights reserved.',
  footerNote: 'Made with care in Lisbon.',
  footerNav: 'Imprint and privacy notice',
  noscript: 'Enable JavaScript to search the handbook.',
  headScript: 'acmeAnalyticsQueue',
  jsonLd: 'Acme Relay Ltd (structured data)',
  headStyle: 'acme-theme-7',
  mainScript: 'acmeCopyHelper',
  mainStyle: 'acme-tabs-2',
} as const;

/** The markers each layout puts on a page (all outside its main content, or script/style in it). */
export function boilerplateOf(layout: Layout): string[] {
  const b = BOILERPLATE;
  const common = [
    b.cookieBanner,
    b.headerTagline,
    b.headerNav,
    b.footerCopyright,
    b.footerNote,
    b.footerNav,
    b.noscript,
    b.headScript,
    b.jsonLd,
    b.headStyle,
  ];
  if (layout === 'docs') return [...common, b.sidebarTitle, b.sidebarPromo, b.toc, b.breadcrumb, b.editLink, b.mainScript, b.mainStyle];
  if (layout === 'blog') return [...common, b.relatedPosts];
  return [...common, b.sidebarTitle, b.sidebarPromo];
}

/** Query parameters on the site's links that only track where a click came from. */
export const TRACKING_PARAMS: readonly string[] = ['utm_source', 'utm_medium', 'utm_campaign', 'ref', 'fbclid', 'gclid'];

// ---------------------------------------------------------------------------------------------
// The documentation site

const DOCS = ' | Acme Relay Docs';
const BLOG = ' | Acme Relay Blog';

/** The docs pages in the sidebar, in order (every docs page links to them: crawl depth 1). */
export const SIDEBAR: readonly { path: string; label: string }[] = [
  { path: '/docs/getting-started', label: 'Getting started' },
  { path: '/docs/install', label: 'Installing Acme Relay' },
  { path: '/docs/configuration', label: 'Configuration reference' },
  { path: '/docs/webhooks', label: 'Webhooks' },
  { path: '/docs/troubleshooting', label: 'Troubleshooting' },
  { path: '/docs/changelog', label: 'Changelog' },
];

const PAGES: PageSpec[] = [
  {
    path: '/docs/',
    kind: 'html',
    title: `Acme Relay documentation${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-04T09:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Acme Relay documentation',
        blocks: [
          {
            p: [
              'Acme Relay receives webhooks from other services, stores each one durably and delivers it to your endpoints exactly once.',
              'This handbook explains how to install the relay, configure it and operate it in production.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Guides',
        blocks: [
          {
            ul: [
              '[Getting started](/docs/getting-started): create an account and send a first test event.',
              '[Installing Acme Relay](/docs/install): packages for Linux and macOS, and the container image.',
              '[Configuration reference](/docs/configuration): every setting of relay.toml and its environment variable.',
              '[Webhooks](/docs/webhooks): endpoints, signatures and the retry schedule.',
              '[Troubleshooting](troubleshooting): what to check when deliveries stop.',
              '[Changelog](./../docs/changelog): what changed in each release.',
              'The [administrator manual](/docs/manual) as a printable document.',
              'The [release notes for 3.2](/docs/release-notes.pdf), published as a web page.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Elsewhere',
        blocks: [
          { p: ['These links lead off the handbook, or back into it by a longer way.'] },
          {
            ul: [
              'The [launch announcement](/blog/launch) tells how the project began.',
              'See the [partner integrations](@OTHER@/partners/acme-relay) and the [partner directory](//@OTHER_HOST@/partners/).',
              'Write to [support@acme-relay.example](mailto:support@acme-relay.example) or call [+351 210 000 000](tel:+351210000000).',
              'A [local mirror](file:///srv/mirror/relay-docs/index.html) and an [FTP archive](ftp://@OTHER_HOST@/pub/relay/) exist for air-gapped sites.',
              'Questions? [Open the chat](javascript:void(0)) during office hours.',
              'The install guide [as sent in the newsletter](/docs/install?utm_source=newsletter&utm_medium=email&utm_campaign=march).',
              'The configuration reference [as shared on social media](/docs/configuration?ref=social&fbclid=IwAR0fake42).',
              'Straight to [webhook endpoints](/docs/webhooks#endpoints) or [account creation](@ORIGIN@/docs/getting-started?gclid=Cj0fake#create-an-account).',
              'The [older releases](/docs/changelog?utm_campaign=spring&page=2) of the changelog.',
              'The [private roadmap](/docs/private/roadmap) and the [on-call runbook](/docs/internal/oncall) are for staff.',
              'Compare [pricing](/pricing) before you choose a plan.',
            ],
          },
        ],
      },
    ],
  },
  {
    path: '/docs/getting-started',
    kind: 'html',
    title: `Getting started${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-04T10:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Getting started',
        blocks: [
          {
            p: [
              'This guide takes about ten minutes and ends with a test event delivered to your own endpoint.',
              'You need a terminal with curl and an HTTPS endpoint that answers with status 200.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Create an account',
        blocks: [
          {
            p: [
              'Sign up at the Acme Relay console with a work email address; the free plan includes 10,000 deliveries per month.',
              'Every account starts with one workspace named after the email domain.',
            ],
          },
          {
            ol: [
              'Open the console and choose **Create workspace**.',
              'Copy the ingest key that starts with `rk_live_`.',
              'Store the key in a secret manager, never in source control.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Send your first event',
        blocks: [
          {
            p: [
              'Events are posted as JSON to the ingest URL of your workspace.',
              'The relay answers 202 Accepted as soon as the event is stored, before it is delivered.',
            ],
          },
          {
            lang: 'bash',
            code: [
              'curl -X POST https://ingest.acme-relay.example/v1/events \\',
              '  -H "Authorization: Bearer $RELAY_KEY" \\',
              '  -H "Content-Type: application/json" \\',
              `  -d '{"type": "order.paid", "data": {"id": "ord_1042", "total": 129.90}}' && echo "sent <ok>"`,
            ].join('\n'),
          },
        ],
      },
      {
        level: 3,
        heading: 'Check the delivery',
        blocks: [
          {
            p: [
              'Open **Deliveries** in the console to see the event, the endpoint it went to and the response code.',
              'A delivery that your endpoint answers with a 2xx status is marked as delivered and is never sent again.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Next steps',
        blocks: [
          {
            ul: [
              'Learn to [verify signatures](/docs/webhooks/signatures?utm_source=getting-started) before trusting an event.',
              'Choose a [retry schedule](/docs/webhooks#retries) that suits your endpoint.',
            ],
          },
        ],
      },
    ],
  },
  {
    path: '/docs/install',
    kind: 'html',
    title: `Installing Acme Relay${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-04T11:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Installing Acme Relay',
        blocks: [
          {
            p: [
              'The relay is a single static binary named `relay` with no runtime dependencies.',
              'Packages exist for Linux and macOS; for containers, see [Running Relay in Docker](/docs/install/docker).',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Requirements',
        blocks: [
          {
            table: {
              header: ['Platform', 'Minimum version', 'Architectures'],
              rows: [
                ['Ubuntu', '22.04 LTS', 'x86-64, arm64'],
                ['Debian', '12 (bookworm)', 'x86-64, arm64'],
                ['Fedora', '39', 'x86-64'],
                ['macOS', '13 Ventura', 'Apple silicon, Intel'],
              ],
            },
          },
          { p: ['The relay needs 256 MB of memory and writes its queue to a local data directory, by default /var/lib/relay.'] },
        ],
      },
      {
        level: 2,
        heading: 'Linux',
        blocks: [{ p: ['The signed packages come from the Acme package repository, which also delivers updates.'] }],
      },
      {
        level: 3,
        heading: 'Debian and Ubuntu',
        blocks: [
          {
            lang: 'bash',
            code: [
              'curl -fsSL https://packages.acme-relay.example/gpg.key | sudo gpg --dearmor -o /usr/share/keyrings/acme-relay.gpg',
              'echo "deb [signed-by=/usr/share/keyrings/acme-relay.gpg] https://packages.acme-relay.example/apt stable main" \\',
              '  | sudo tee /etc/apt/sources.list.d/acme-relay.list',
              'sudo apt update && sudo apt install relay',
            ].join('\n'),
          },
          { p: ['The package creates a system user named relay and a systemd unit called relay.service.'] },
        ],
      },
      {
        level: 3,
        heading: 'Fedora',
        blocks: [
          {
            lang: 'bash',
            code: 'sudo dnf config-manager --add-repo https://packages.acme-relay.example/rpm/acme-relay.repo\nsudo dnf install relay',
          },
          { p: ['On Fedora the unit is enabled but not started, so run sudo systemctl start relay once the configuration is in place.'] },
        ],
      },
      {
        level: 2,
        heading: 'macOS',
        blocks: [
          {
            p: [
              'Install with Homebrew using brew install acme/tap/relay, which also adds a launchd service.',
              'Gatekeeper may ask for confirmation the first time; the binary is notarised by Apple.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Verify the installation',
        blocks: [
          {
            p: [
              'Run `relay version` to print the version, the commit and the path of the configuration file in use.',
              'Version 3.2.4 is the current stable release.',
            ],
          },
        ],
      },
    ],
  },
  {
    path: '/docs/install/docker',
    kind: 'html',
    title: `Running Relay in Docker${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-04T12:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Running Relay in Docker',
        blocks: [
          {
            p: [
              'The official image acme/relay is built from scratch and contains only the relay binary and CA certificates.',
              'It runs as user 65532 and expects its data directory to be mounted at /data.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Image tags',
        blocks: [
          {
            table: {
              header: ['Tag', 'Meaning'],
              rows: [
                ['3.2.4', 'An exact release; recommended for production.'],
                ['3.2', 'The newest patch release of 3.2.'],
                ['edge', 'Built from the main branch every night; not supported.'],
              ],
            },
          },
        ],
      },
      {
        level: 2,
        heading: 'Compose file',
        blocks: [
          { p: ['This compose file keeps the queue on a named volume so that it survives upgrades.'] },
          {
            lang: 'yaml',
            code: [
              'services:',
              '  relay:',
              '    image: acme/relay:3.2.4',
              '    ports:',
              '      - "8443:8443"',
              '    volumes:',
              '      - relay-data:/data',
              '    environment:',
              '      RELAY_KEY: ${RELAY_KEY}',
              'volumes:',
              '  relay-data: {}',
            ].join('\n'),
          },
        ],
      },
      {
        level: 2,
        heading: 'Health checks',
        blocks: [
          {
            p: [
              'The container answers GET /healthz on port 8443 once the queue is open.',
              'Orchestrators should wait for three successful checks before sending traffic, because the queue is replayed at start.',
            ],
          },
        ],
      },
    ],
  },
  {
    path: '/docs/configuration',
    kind: 'html',
    title: `Configuration reference${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-04T13:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Configuration reference',
        blocks: [
          {
            p: [
              'The relay reads /etc/relay/relay.toml at start and again whenever it receives SIGHUP.',
              'Every setting can also be given as an environment variable, which is handy in containers.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'The `relay.toml` file',
        blocks: [
          {
            lang: 'toml',
            code: [
              '[server]',
              'listen = "0.0.0.0:8443"',
              'data_dir = "/var/lib/relay"',
              '',
              '[delivery]',
              'timeout_seconds = 10',
              'max_attempts = 12',
              'concurrency = 32',
            ].join('\n'),
          },
          { p: ['Unknown keys are rejected at start with the line number of the offending key, so typos never go unnoticed.'] },
        ],
      },
      {
        level: 2,
        heading: 'Environment variables',
        blocks: [
          {
            table: {
              header: ['Variable', 'Default', 'Meaning'],
              rows: [
                ['RELAY_LISTEN', '0.0.0.0:8443', 'Address and port the relay listens on.'],
                ['RELAY_DATA_DIR', '/var/lib/relay', 'Where the queue and the delivery log are kept.'],
                ['RELAY_DELIVERY_TIMEOUT', '10', 'Seconds to wait for an endpoint before the attempt counts as failed.'],
                ['RELAY_MAX_ATTEMPTS', '12', 'Attempts before an event is moved to the dead-letter queue.'],
                ['RELAY_LOG_FORMAT', 'json', 'Either json or text.'],
              ],
            },
          },
        ],
      },
      {
        level: 3,
        heading: 'Precedence',
        blocks: [
          {
            p: [
              'An environment variable always wins over the same key in relay.toml, and a command-line flag wins over both.',
              'Run `relay config show` to print the effective configuration with the source of each value.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Limits',
        blocks: [
          {
            ul: [
              'An event body may be at most 1 MB; larger events are refused with status 413.',
              'A workspace may have up to 50 endpoints.',
              'Timeouts < 1 second are rounded up to 1 second & logged as a warning.',
              'Delivery logs are kept for 30 days, then deleted.',
            ],
          },
        ],
      },
    ],
  },
  {
    path: '/docs/webhooks',
    kind: 'html',
    title: `Webhooks${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-04T14:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Webhooks',
        blocks: [
          {
            p: [
              'A webhook endpoint is an HTTPS URL that receives events from the relay as POST requests.',
              'Each endpoint subscribes to event types such as order.paid or invoice.voided.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Endpoints',
        blocks: [
          {
            p: [
              'Add endpoints in the console under **Endpoints** or with relay endpoints add followed by the URL.',
              'An endpoint must answer within the delivery timeout, ten seconds by default, with any 2xx status.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Verifying signatures',
        blocks: [
          {
            p: [
              'Every delivery carries an X-Relay-Signature header so that your endpoint can tell a genuine event from a forged one.',
              'The full procedure, with an example in Node.js, is on the [signatures page](/docs/webhooks/signatures).',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Retries',
        blocks: [
          {
            p: [
              'When an endpoint fails, the relay tries again with exponential backoff for up to three days.',
              'The exact schedule is listed on the [retries page](webhooks/retries).',
            ],
          },
        ],
      },
    ],
  },
  {
    path: '/docs/webhooks/signatures',
    kind: 'html',
    title: `Verifying webhook signatures${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-04T15:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Verifying webhook signatures',
        blocks: [
          {
            p: [
              'The relay signs the raw request body with HMAC-SHA256 using the signing secret of the endpoint.',
              'The signature and a timestamp are sent together in the X-Relay-Signature header.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Header format',
        blocks: [
          { lang: 'text', code: 'X-Relay-Signature: t=1710000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd' },
          {
            p: [
              'Compute HMAC-SHA256 over the timestamp, a full stop and the raw body, then compare the result with v1 in constant time.',
              'Reject any delivery whose timestamp is more than five minutes old, which stops replayed requests.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Example in Node.js',
        blocks: [
          {
            lang: 'js',
            code: [
              "import { createHmac, timingSafeEqual } from 'node:crypto';",
              '',
              'export function verify(secret, header, body) {',
              "  const { t, v1 } = Object.fromEntries(header.split(',').map((kv) => kv.split('=')));",
              "  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');",
              '  return expected.length === v1.length && timingSafeEqual(Buffer.from(expected), Buffer.from(v1));',
              '}',
            ].join('\n'),
          },
        ],
      },
      {
        level: 2,
        heading: 'Rotating secrets',
        blocks: [
          { p: ['Rotating a signing secret keeps the old secret valid for 24 hours, so both signatures are sent during that window.'] },
        ],
      },
    ],
  },
  {
    path: '/docs/webhooks/retries',
    kind: 'html',
    title: `Retry schedule${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-04T16:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Retry schedule',
        blocks: [
          {
            p: [
              'A delivery attempt fails when the endpoint answers with a status other than 2xx, closes the connection or takes longer than the timeout.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Backoff',
        blocks: [
          {
            table: {
              header: ['Attempt', 'Delay after the previous attempt'],
              rows: [
                ['2', '30 seconds'],
                ['3', '2 minutes'],
                ['4', '10 minutes'],
                ['5', '1 hour'],
                ['6 to 12', '6 hours'],
              ],
            },
          },
          { p: ['After the twelfth failed attempt the event moves to the dead-letter queue, where it stays for 30 days.'] },
        ],
      },
      {
        level: 2,
        heading: 'Replaying events',
        blocks: [
          {
            p: [
              'Events in the dead-letter queue can be replayed one by one from the console or all at once with relay replay --endpoint ID.',
              'A replayed event keeps its original ID, so endpoints that deduplicate by ID stay correct.',
            ],
          },
        ],
      },
    ],
  },
  {
    path: '/docs/troubleshooting',
    kind: 'html',
    title: `Troubleshooting${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-04T17:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Troubleshooting',
        blocks: [{ p: ['Most delivery problems come from the endpoint, not from the relay, and show up in the delivery log first.'] }],
      },
      {
        level: 2,
        heading: 'Deliveries time out',
        blocks: [
          {
            p: [
              'If attempts fail with a timeout, the endpoint is probably doing its work before it answers.',
              'Answer 200 immediately and process the event in the background instead.',
            ],
          },
          {
            ol: [
              'Open the delivery log for the endpoint.',
              'Sort by duration and look at the slowest attempts.',
              'Raise RELAY_DELIVERY_TIMEOUT only as a last resort; the maximum is 30 seconds.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Signatures do not match',
        blocks: [
          {
            p: [
              'A signature mismatch almost always means the body was parsed and serialised again before verification.',
              'Verify the raw bytes exactly as received, before any JSON parsing.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'The queue keeps growing',
        blocks: [
          {
            p: [
              'A queue that grows steadily means deliveries are slower than new events arrive.',
              'Increase delivery concurrency, which defaults to 32 parallel deliveries per endpoint.',
            ],
          },
        ],
      },
    ],
  },
  {
    path: '/docs/changelog',
    kind: 'html',
    title: `Changelog${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-04T18:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Changelog',
        blocks: [
          {
            p: [
              'Releases follow semantic versioning; this page lists the 3.x series, newest first.',
              'Older releases are on [page 2](/docs/changelog?page=2).',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: '3.2.4',
        blocks: [
          {
            ul: [
              'Fixed a crash when an endpoint URL contained a port above 32767.',
              'The dead-letter queue view now shows the last response body.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: '3.2.0',
        blocks: [
          {
            ul: [
              'New relay config show command that prints the effective configuration.',
              'Signing secrets can be rotated without downtime.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: '3.0.0',
        blocks: [{ ul: ['The queue format changed; upgrading from 2.x converts it once at start.', 'Dropped support for Ubuntu 20.04.'] }],
      },
    ],
  },
  {
    path: '/docs/changelog?page=2',
    kind: 'html',
    title: `Changelog, page 2${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-04T18:30:00Z',
    sections: [
      {
        level: 1,
        heading: 'Changelog, page 2',
        blocks: [{ p: ['Releases of the 2.x and 1.x series, newest first.', 'Newer releases are on [page 1](/docs/changelog).'] }],
      },
      {
        level: 2,
        heading: '2.9.0',
        blocks: [{ ul: ['Last release of the 2.x series, supported until June 2024.', 'Added the arm64 packages for Debian.'] }],
      },
      {
        level: 2,
        heading: '1.0.0',
        blocks: [{ ul: ['First public release, with delivery to a single endpoint per workspace.'] }],
      },
    ],
  },
  {
    path: '/docs/manual',
    kind: 'pdf',
    title: MANUAL_TITLE,
    sitemap: 'docs',
    modified: '2024-03-05T09:00:00Z',
    pdfPages: 3,
    sections: [],
  },
  {
    path: '/docs/release-notes.pdf',
    kind: 'html',
    layout: 'bare',
    title: `Release notes for Acme Relay 3.2${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-05T10:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Release notes for Acme Relay 3.2',
        blocks: [
          {
            p: [
              'Version 3.2 was released on 4 March 2024 and is supported until March 2026.',
              'Despite its name, this page is an ordinary web page and not a PDF file.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Highlights',
        blocks: [
          {
            ul: [
              'Rotation of signing secrets without downtime.',
              'A configuration printer that shows where each value came from.',
              'Dead-letter queues now keep events for 30 days instead of 7.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Upgrading',
        blocks: [{ p: ['Upgrade in place with the package manager; the queue needs no conversion from 3.0 or 3.1.'] }],
      },
    ],
  },
  {
    path: '/docs/private/roadmap',
    kind: 'html',
    title: `Private roadmap${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-05T11:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Private roadmap',
        blocks: [
          {
            p: [
              'This page is disallowed in robots.txt for every user agent.',
              'Version 4.0 is code-named Project Kestrel and must not appear in any index.',
            ],
          },
        ],
      },
    ],
  },
  {
    path: '/docs/internal/oncall',
    kind: 'html',
    title: `On-call runbook${DOCS}`,
    sitemap: 'docs',
    modified: '2024-03-05T12:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'On-call runbook',
        blocks: [
          {
            p: [
              'This page is disallowed in robots.txt for crawlers that call themselves copilot.',
              'The pager rotation code word is Osprey Night and changes every Tuesday at 09:00 UTC.',
            ],
          },
        ],
      },
    ],
  },
  {
    path: '/blog/launch',
    kind: 'html',
    layout: 'blog',
    title: `Introducing Acme Relay${BLOG}`,
    sitemap: 'blog',
    modified: '2023-01-10T09:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Introducing Acme Relay',
        blocks: [
          {
            p: [
              'We built Acme Relay because every team we knew had written its own webhook retry loop, and most of them lost events.',
              'Relay 1.0 stores every event before acknowledging it.',
            ],
          },
        ],
      },
      {
        level: 2,
        heading: 'Why exactly once',
        blocks: [{ p: ['Endpoints that receive the same event twice charge customers twice; endpoints that miss one lose an order.'] }],
      },
    ],
  },
  {
    path: '/blog/relay-3',
    kind: 'html',
    layout: 'blog',
    title: `What is new in Relay 3${BLOG}`,
    sitemap: 'blog',
    modified: '2023-11-20T09:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'What is new in Relay 3',
        blocks: [{ p: ['Relay 3 replaces the old queue with a log-structured store that replays ten times faster after a crash.'] }],
      },
      {
        level: 2,
        heading: 'Migration',
        blocks: [{ p: ['The first start of 3.0 converts a 2.x queue in place, which takes about a minute per million events.'] }],
      },
    ],
  },
  {
    path: '/archive/relay-1',
    kind: 'html',
    title: `Relay 1 documentation (archived)${DOCS}`,
    sitemap: 'archive',
    modified: '2023-02-01T09:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Relay 1 documentation (archived)',
        blocks: [{ p: ['Relay 1 reached its end of life in January 2023 and receives no more security fixes.'] }],
      },
    ],
  },
  {
    path: '/pricing',
    kind: 'html',
    layout: 'bare',
    title: 'Pricing | Acme Relay',
    sitemap: null,
    modified: '2024-01-02T09:00:00Z',
    sections: [
      {
        level: 1,
        heading: 'Pricing',
        blocks: [{ p: ['The team plan costs 49 euros per month and includes one million deliveries.'] }],
      },
    ],
  },
  {
    path: '/bad/blank',
    kind: 'html',
    title: `Blank page${DOCS}`,
    sitemap: null,
    modified: '2024-03-06T09:00:00Z',
    sections: [],
  },
];

/** The site as it starts: every page by path. */
export const site: { readonly pages: Readonly<Record<string, PageSpec>> } = {
  pages: Object.fromEntries(PAGES.map((p) => [p.path, p])),
};

/** Headings and known sentences of the PDF at /docs/manual (longManual(n) of test/support/pdfs.ts). */
export function pdfSections(pages: number): { heading: string; sentences: string[] }[] {
  return manualPages.slice(0, pages).map((p) => ({
    heading: `${p.page}. ${p.topic}`,
    sentences: manualFacts.filter((f) => f.page === p.page).map((f) => f.fact),
  }));
}

// ---------------------------------------------------------------------------------------------
// Generated site (/gen/): deterministic pages for benchmarks

const TOPICS = [
  'batching events',
  'ordering guarantees',
  'idempotency keys',
  'dead-letter alerts',
  'endpoint health',
  'secret rotation',
  'payload filters',
  'fan-out routing',
  'rate limiting',
  'schema checks',
  'replay windows',
  'regional failover',
  'audit trails',
  'queue sizing',
  'consumer groups',
  'backpressure',
  'certificate pinning',
  'log shipping',
  'cold starts',
  'cost controls',
];
const SUBJECTS = [
  'The relay',
  'Each endpoint',
  'A workspace',
  'The delivery worker',
  'The dead-letter queue',
  'An operator',
  'The console',
  'The ingest API',
];
const VERBS = ['keeps', 'checks', 'records', 'limits', 'retries', 'groups', 'signs', 'compresses', 'reports', 'splits'];
const OBJECTS = [
  'every event',
  'the payload',
  'each attempt',
  'the response code',
  'the batch',
  'the signing secret',
  'the delivery log',
  'the queue depth',
];
const CONDITIONS = [
  'before the endpoint answers',
  'after a restart',
  'when the timeout expires',
  'during a deploy',
  'while the region is degraded',
  'once the batch is full',
  'if the signature is stale',
  'until the backlog drains',
];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Path of generated page i (1-based) of n. */
export function genPath(i: number, n: number): string {
  return `/gen/page-${String(i).padStart(Math.max(3, String(n).length), '0')}`;
}

/** The one sentence only generated page i says. */
export function genFact(i: number): string {
  return `Recipe ${i} uses a window of ${((i * 37) % 900) + 100} milliseconds and batches of ${((i * 13) % 90) + 10} events.`;
}

/** Generated page i (1-based) of n: three sections of seeded sentences, a fact, links to three others. */
export function generatedPage(i: number, n: number): PageSpec {
  const rnd = mulberry32(i * 7919 + 17);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const sentence = () => `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(CONDITIONS)}.`;
  const para = (k: number) => Array.from({ length: k }, sentence);
  const topic = TOPICS[(i - 1) % TOPICS.length]!;
  const related = [...new Set([(i % n) + 1, ((i + 6) % n) + 1, ((i * 3) % n) + 1])].filter((j) => j !== i);
  const title = `Recipe ${i}: ${topic}`;
  const sections: SectionSpec[] = [
    { level: 1, heading: title, blocks: [{ p: [`This recipe shows one way to handle ${topic} with Acme Relay.`, genFact(i)] }] },
    { level: 2, heading: 'Overview', blocks: [{ p: para(4) }, { p: para(3) }] },
    {
      level: 2,
      heading: 'Steps',
      blocks: [
        { ol: para(3) },
        ...(i % 3 === 0 ? [{ lang: 'bash', code: `relay recipe apply ${i} --window ${((i * 37) % 900) + 100}ms` }] : []),
      ],
    },
    { level: 2, heading: 'Pitfalls', blocks: [{ p: para(4) }] },
    { level: 2, heading: 'Related recipes', blocks: [{ ul: related.map((j) => `[Recipe ${j}](${genPath(j, n)})`) }] },
  ];
  return { path: genPath(i, n), kind: 'html', title: `${title}${DOCS}`, sitemap: 'gen', modified: genModified(i), sections };
}

function genModified(i: number): string {
  return new Date(Date.UTC(2024, 1, 1, 0, 0, 0) + i * 60_000).toISOString();
}

/** The /gen/ index: links to the first ten recipes (the rest are reached through them). */
export function generatedIndex(n: number): PageSpec {
  const first = Array.from({ length: Math.min(10, n) }, (_, k) => k + 1);
  return {
    path: '/gen/',
    kind: 'html',
    title: `Relay cookbook${DOCS}`,
    sitemap: null,
    modified: genModified(0),
    sections: [
      {
        level: 1,
        heading: 'Relay cookbook',
        blocks: [
          { p: [`The cookbook has ${n} recipes, all listed in its sitemap.`] },
          { ul: first.map((j) => `[Recipe ${j}](${genPath(j, n)})`) },
        ],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Text helpers

const INLINE = /\[([^\]]+)\]\((\S+?)\)(?=[\s.,;:!?]|$)|`([^`]+)`|\*\*([^*]+)\*\*/g;

/** What a reader sees of a line with inline markup. */
export function visible(text: string): string {
  return text.replace(INLINE, (_m, linkText?: string, _href?: string, code?: string, strong?: string) => linkText ?? code ?? strong ?? '');
}

/** The hrefs of a line with inline markup, in order. */
export function hrefsOf(text: string): string[] {
  return [...text.matchAll(INLINE)].filter((m) => m[2] !== undefined).map((m) => m[2]!);
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function inlineHtml(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    out += escapeHtml(text.slice(last, m.index));
    if (m[1] !== undefined) out += `<a href="${escapeHtml(m[2]!)}">${escapeHtml(m[1])}</a>`;
    else if (m[3] !== undefined) out += `<code>${escapeHtml(m[3])}</code>`;
    else out += `<strong>${escapeHtml(m[4]!)}</strong>`;
    last = m.index + m[0].length;
  }
  return out + escapeHtml(text.slice(last));
}

/** The id a heading gets (its anchor). */
export function slug(heading: string): string {
  return visible(heading)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

// ---------------------------------------------------------------------------------------------
// HTML rendering

function sectionHtml(s: SectionSpec): string {
  const id = slug(s.heading);
  const text = inlineHtml(s.heading);
  // Docusaurus-style permalink: a zero-width space inside an anchor at the end of the heading.
  const heading =
    s.level === 1
      ? `<header><h1>${text}</h1></header>`
      : `<h${s.level} class="anchor" id="${id}">${text}<a href="#${id}" class="hash-link" aria-label="Direct link to ${escapeHtml(visible(s.heading))}" title="Direct link to ${escapeHtml(visible(s.heading))}">&#8203;</a></h${s.level}>`;
  const blocks = s.blocks.map((b) => {
    if ('p' in b) return `<p>${b.p.map(inlineHtml).join('\n      ')}</p>`;
    if ('ul' in b || 'ol' in b) {
      const tag = 'ul' in b ? 'ul' : 'ol';
      const items = 'ul' in b ? b.ul : b.ol;
      return `<${tag}>\n${items.map((it) => `        <li>${inlineHtml(it)}</li>`).join('\n')}\n      </${tag}>`;
    }
    if ('code' in b) {
      return `<div class="code-block"><pre class="language-${b.lang ?? 'text'}"><code>${escapeHtml(b.code)}</code></pre></div>`;
    }
    const head = b.table.header.map((h) => `<th>${inlineHtml(h)}</th>`).join('');
    const rows = b.table.rows.map((r) => `          <tr>${r.map((c) => `<td>${inlineHtml(c)}</td>`).join('')}</tr>`).join('\n');
    return `<div class="table-wrapper"><table>\n        <thead><tr>${head}</tr></thead>\n        <tbody>\n${rows}\n        </tbody>\n      </table></div>`;
  });
  return [heading, ...blocks].map((x) => `      ${x}`).join('\n');
}

function headHtml(page: PageSpec, description: string): string {
  const jsonLd = JSON.stringify({
    '@context': 'https://schema.org',
    '@type': 'TechArticle',
    headline: page.title,
    dateModified: page.modified,
    publisher: { '@type': 'Organization', name: BOILERPLATE.jsonLd },
  });
  const next = page.path === '/docs/changelog' ? '\n  <link rel="next" href="?page=2">' : '';
  return `<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(page.title)}</title>
  <meta name="description" content="${escapeHtml(description)}">
  <meta property="og:title" content="${escapeHtml(page.title)}">
  <link rel="canonical" href="${ORIGIN}${escapeHtml(page.path)}">${next}
  <link rel="stylesheet" href="/assets/site.css">
  <style>/* ${BOILERPLATE.headStyle} */ .cookie-banner{position:fixed;bottom:0;left:0;right:0} .hash-link{opacity:0}</style>
  <script>window.${BOILERPLATE.headScript}=window.${BOILERPLATE.headScript}||[];${BOILERPLATE.headScript}.push(['pageview',${JSON.stringify(page.path)}]);</script>
  <script type="application/ld+json">${jsonLd}</script>
</head>`;
}

const COOKIE_BANNER = `<div id="cookie-consent" class="cookie-banner" role="dialog" aria-label="Cookie consent">
    <p>${escapeHtml(BOILERPLATE.cookieBanner)}</p>
    <button type="button">Accept all</button> <button type="button">Manage preferences</button>
  </div>`;

const SITE_HEADER = `<header class="navbar">
    <a class="brand" href="/docs/"><img src="/assets/logo.svg" alt="">Acme Relay Docs</a>
    <span class="tagline">${escapeHtml(BOILERPLATE.headerTagline)}</span>
    <nav aria-label="Main">
      <ul>
        <li><a href="/docs/">Handbook</a></li>
        <li><a href="${OTHER}/tour">Product tour</a></li>
        <li><a href="/pricing">Pricing plans</a></li>
        <li><a href="/blog/relay-3">Engineering blog</a></li>
        <li><a href="${OTHER}/status">Status page</a></li>
        <li><a href="/login?next=%2Fdocs%2F">${escapeHtml(BOILERPLATE.headerNav)}</a></li>
      </ul>
    </nav>
    <form role="search" action="/search"><input type="search" name="q" placeholder="Search the handbook"></form>
  </header>`;

const SIDEBAR_HTML = `<aside class="sidebar">
      <nav aria-label="Docs sidebar">
        <h2 class="sidebar-title">${escapeHtml(BOILERPLATE.sidebarTitle)}</h2>
        <ul>
${SIDEBAR.map((s) => `          <li><a href="${s.path}">${escapeHtml(s.label)}</a></li>`).join('\n')}
        </ul>
      </nav>
      <div class="sidebar-promo">${escapeHtml(BOILERPLATE.sidebarPromo)}</div>
    </aside>`;

const SITE_FOOTER = `<footer class="site-footer">
    <nav aria-label="Footer">
      <a href="/imprint">${escapeHtml(BOILERPLATE.footerNav)}</a>
      <a href="mailto:docs@acme-relay.example">Write to the docs team</a>
      <a href="${OTHER}/legal/privacy">Privacy</a>
    </nav>
    <p>${escapeHtml(BOILERPLATE.footerCopyright)}</p>
    <p>${escapeHtml(BOILERPLATE.footerNote)}</p>
  </footer>
  <noscript>${escapeHtml(BOILERPLATE.noscript)}</noscript>
  <script src="/assets/site.js" defer></script>`;

function paginationHtml(path: string): string {
  const i = SIDEBAR.findIndex((s) => s.path === path);
  if (i < 0) return '';
  const prev = SIDEBAR[i - 1];
  const next = SIDEBAR[i + 1];
  return `
        <nav class="pagination-nav" aria-label="Docs pages">${prev ? `<a rel="prev" href="${prev.path}">Previous article: ${escapeHtml(prev.label)}</a>` : ''}${next ? `<a rel="next" href="${next.path}">${escapeHtml(BOILERPLATE.pagination)}: ${escapeHtml(next.label)}</a>` : ''}</nav>`;
}

/** The whole HTML page (with ORIGIN / OTHER placeholders). */
export function renderHtml(page: PageSpec): string {
  const layout = page.layout ?? 'docs';
  const first = page.sections[0]?.blocks.find((b): b is { p: string[] } => 'p' in b)?.p[0];
  const description = first ? visible(first) : page.title;
  const body = page.sections.length
    ? page.sections.map(sectionHtml).join('\n')
    : '      <!-- this page has no content yet -->\n      <div class="markdown">\n        \n      </div>';
  const h1 = page.sections[0] ? visible(page.sections[0].heading) : page.title;
  let main: string;
  if (layout === 'docs') {
    const toc = page.sections
      .filter((s) => s.level > 1)
      .map((s) => `<li><a href="#${slug(s.heading)}">${inlineHtml(s.heading)}</a></li>`)
      .join('');
    main = `<div class="layout">
    ${SIDEBAR_HTML}
    <main id="content">
      <nav aria-label="Breadcrumbs" class="breadcrumbs"><a href="/docs/">${escapeHtml(BOILERPLATE.breadcrumb)}</a> › <span>${escapeHtml(h1)}</span></nav>
      <article>
      <style>/* ${BOILERPLATE.mainStyle} */ .tabs{display:flex}</style>
      <div class="markdown">
${body}
      </div>
        <footer class="article-footer">
          <a href="${OTHER}/acme/relay-docs/edit/main${escapeHtml(page.path.split('?')[0]!)}.md">${escapeHtml(BOILERPLATE.editLink)}</a>
          <span>Last updated on ${new Date(page.modified).toUTCString().slice(5, 16)}</span>
        </footer>${paginationHtml(page.path)}
      </article>
      <script>document.querySelectorAll('pre').forEach(function (p) { p.dataset.helper = '${BOILERPLATE.mainScript}'; });</script>
    </main>
    <aside class="toc"><p>${escapeHtml(BOILERPLATE.toc)}</p><ul>${toc}</ul></aside>
  </div>`;
  } else if (layout === 'blog') {
    main = `<article class="post">
${body}
      <aside class="related"><h2>${escapeHtml(BOILERPLATE.relatedPosts)}</h2><ul><li><a href="/blog/launch">Introducing Acme Relay</a></li><li><a href="/blog/relay-3">What is new in Relay 3</a></li></ul></aside>
  </article>`;
  } else {
    main = `${SIDEBAR_HTML}
  <div role="main" class="content">
${body}
  </div>`;
  }
  return `<!DOCTYPE html>
<html lang="en">
${headHtml(page, description)}
<body>
  ${COOKIE_BANNER}
  ${SITE_HEADER}
  ${main}
  ${SITE_FOOTER}
</body>
</html>
`;
}

/** Every href on the rendered page, in document order (placeholders kept). */
export function hrefsOnPage(html: string): string[] {
  return [...html.matchAll(/<a\s[^>]*href="([^"]*)"/g)].map((m) =>
    m[1]!
      .replace(/&amp;/g, '&')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>'),
  );
}

// ---------------------------------------------------------------------------------------------
// Sitemaps and robots.txt

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A `<urlset>` of pages (path + lastmod). The second entry's `<loc>` is spread over lines. */
export function urlsetXml(entries: { path: string; lastmod: string }[], alternates = false): string {
  const urls = entries.map((e, k) => {
    const loc = k === 1 ? `<loc>\n      ${xmlEscape(ORIGIN + e.path)}\n    </loc>` : `<loc>${xmlEscape(ORIGIN + e.path)}</loc>`;
    const alt =
      alternates && e.path === '/docs/install' ? `\n    <xhtml:link rel="alternate" hreflang="de" href="${ORIGIN}/de/docs/install"/>` : '';
    return `  <url>\n    ${loc}\n    <lastmod>${e.lastmod}</lastmod>\n    <changefreq>weekly</changefreq>\n    <priority>0.8</priority>${alt}\n  </url>`;
  });
  const ns = alternates ? ' xmlns:xhtml="http://www.w3.org/1999/xhtml"' : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<!-- generated by the handbook build -->\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"${ns}>\n${urls.join('\n')}\n</urlset>\n`;
}

/** A `<sitemapindex>` of sitemap paths. */
export function sitemapIndexXml(paths: string[], lastmod: string): string {
  const items = paths.map((p) => `  <sitemap>\n    <loc>${xmlEscape(ORIGIN + p)}</loc>\n    <lastmod>${lastmod}</lastmod>\n  </sitemap>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${items.join('\n')}\n</sitemapindex>\n`;
}

/**
 * Disallows /docs/private/ for every crawler, and /docs/internal/ too for one calling itself
 * copilot. A group replaces `*` for the crawlers it names (RFC 9309), so the copilot group repeats
 * the `*` rule: the file means the same whether a reader picks one group or merges them.
 */
export const ROBOTS_TXT = `# robots.txt for the Acme Relay handbook
User-agent: *
Disallow: /docs/private/
Allow: /

# A named group replaces the * group for that crawler, so it repeats its rules.
User-agent: copilot
Disallow: /docs/internal/
Disallow: /docs/private/

Sitemap: ${ORIGIN}/sitemap.xml
`;
