// long: one thin handler per kb subcommand (files and URLs, sync, move, list, show, search, embed, gaps), each converting flags and printing.
/** `copilot kb ingest|sync|move|list|show|remove|search|embed|gaps`. */
import { createEmbedder } from '../../kb/embed.js';
import { DependencyError, UserError, errorMessage } from '../../errors.js';
import { assertSnowflake } from '../../validate.js';
import type { Context } from '../context.js';
import { truncate, when } from '../output.js';
import { bar, startProgress } from '../progress.js';

function sizeLabel(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Pages a crawl requests at most unless --max-pages says otherwise. */
const DEFAULT_MAX_PAGES = 100;

const NO_EMBEDDER =
  'no embeddings provider configured (HF_TOKEN or EMBEDDINGS_URL): chunks are stored for full-text search; run `copilot kb embed` after adding one';

export interface IngestFlags {
  replace?: boolean;
  sitemap?: string[];
  crawl?: string[];
  maxPages?: number;
  collection?: string;
}

const isUrl = (input: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(input);

export async function ingest(ctx: Context, inputs: string[], opts: IngestFlags): Promise<void> {
  const { out } = ctx;
  const { parseCollection } = await import('../../kb/ingest/web.js');
  const collection = opts.collection === undefined ? undefined : parseCollection(opts.collection);
  const files = inputs.filter((i) => !isUrl(i));
  type Target = import('../../kb/web.js').WebTarget;
  const targets: Target[] = [
    ...inputs.filter(isUrl).map((url): Target => ({ kind: 'url', url })),
    ...(opts.sitemap ?? []).map((url): Target => ({ kind: 'sitemap', url })),
    ...(opts.crawl ?? []).map((url): Target => ({ kind: 'crawl', url, maxPages: opts.maxPages ?? DEFAULT_MAX_PAGES })),
  ];
  if (files.length === 0 && targets.length === 0) {
    throw new UserError('give files or URLs to ingest, or --sitemap URL, or --crawl URL', 'missing_argument');
  }
  if (opts.maxPages !== undefined && !opts.crawl?.length) throw new UserError('--max-pages goes with --crawl URL', 'bad_input');
  // Bad URLs are bad input like a missing file: checked before anything is fetched.
  const { parseHttpUrl } = await import('../../kb/fetch/url.js');
  for (const t of targets) parseHttpUrl(t.url);
  const embedder = createEmbedder(ctx.config);
  if (!embedder) out.note(out.style.yellow(NO_EMBEDDER));
  // PDF reading threads load pdf.js while the database is being opened.
  if (files.some((f) => /\.pdf$/i.test(f))) (await import('../../kb/pdf/pool.js')).warmPdfReaders();
  const { ingestFile } = await import('../../kb/ingest/pipeline.js');
  type Row = {
    file: string;
    status: string;
    name?: string;
    documentId?: number;
    pages?: number;
    chunks?: number;
    embedded?: number;
    truncated?: number;
    seconds?: number;
    error?: { code: string; message: string };
  };
  const results: Row[] = [];
  let userErrors = 0;
  let dependencyError: unknown = null;
  await ctx.withDb('kb ingest', async (db) => {
    for (const file of files) {
      const progress = await startProgress(out, `${file}: reading`);
      try {
        const r = await ingestFile(
          {
            db,
            embedder,
            maxFileBytes: ctx.config.maxFileBytes,
            onProgress: (p) => {
              if (p.phase === 'extract') progress.update(`${file}: pages read ${bar(p.done, p.total)}`);
              else if (p.phase === 'embed') progress.update(`${file}: chunks embedded ${bar(p.done, p.total)}`);
              else progress.update(`${file}: chunks stored ${bar(p.done, p.total)}`);
            },
          },
          file,
          { replace: opts.replace, collection },
        );
        progress.stop();
        const { timings: _t, ...row } = r;
        results.push(row);
        if (r.status === 'already_ingested')
          out.note(`${file}: already ingested${r.name !== r.file.split('/').pop() ? ` as "${r.name}"` : ''} — nothing to do`);
        if (r.truncated > 0)
          out.warn(`${file}: ${r.truncated} chunk(s) are longer than the embedding model reads; their ends are not embedded`);
      } catch (err) {
        progress.stop();
        if (err instanceof UserError) userErrors++;
        else dependencyError ??= err;
        const code = err instanceof UserError || err instanceof DependencyError ? err.code : 'internal';
        results.push({ file, status: 'failed', error: { code, message: errorMessage(err) } });
        out.note(`${out.style.red('✗')} ${errorMessage(err)}`);
        // A failing dependency will fail the next files too: stop here.
        if (!(err instanceof UserError)) break;
      }
    }
    if (targets.length === 0 || dependencyError) return;
    const { WebClient } = await import('../../kb/fetch/client.js');
    const { ingestWeb } = await import('../../kb/web.js');
    const client = new WebClient();
    const progress = await startProgress(out, 'fetching');
    try {
      await ingestWeb(
        {
          deps: { db, embedder, maxFileBytes: ctx.config.maxFileBytes },
          client,
          replace: opts.replace,
          collection,
          onCount: (done, known) => progress.update(`pages ingested ${bar(done, known)}`),
          onPage: (p) => {
            if (p.status === 'failed') {
              userErrors++;
              results.push({ file: p.url, status: 'failed', error: { code: p.error.code, message: p.error.message } });
              out.note(`${out.style.red('✗')} ${p.error.message}`);
              return;
            }
            const { timings: _t, ...row } = p.result;
            results.push(row);
            if (p.result.truncated > 0)
              out.warn(`${p.url}: ${p.result.truncated} chunk(s) are longer than the embedding model reads; their ends are not embedded`);
          },
        },
        targets,
      );
    } catch (err) {
      dependencyError ??= err;
      const code = err instanceof DependencyError ? err.code : 'internal';
      results.push({ file: targets[0]!.url, status: 'failed', error: { code, message: errorMessage(err) } });
      out.note(`${out.style.red('✗')} ${errorMessage(err)}`);
    } finally {
      progress.stop();
      client.close();
    }
  });
  out.data(results);
  const done = results.filter((r) => r.status !== 'failed');
  if (done.length > 0) {
    await out.table(
      ['File', 'Status', 'Pages', 'Chunks', 'Embedded', 'Seconds'],
      done.map((r) => [r.file, r.status.replace('_', ' '), r.pages ?? '', r.chunks ?? '', r.embedded ?? '', r.seconds?.toFixed(2) ?? '']),
    );
  }
  const failed = results.length - done.length;
  if (dependencyError) {
    throw new DependencyError(
      `${failed} file(s) not ingested: ${errorMessage(dependencyError)}`,
      (dependencyError as DependencyError).code ?? 'ingest_failed',
      { cause: dependencyError },
    );
  }
  if (userErrors > 0)
    throw new UserError(
      `${userErrors} of ${results.length} ${targets.length > 0 ? 'file(s) or page(s)' : 'file(s)'} not ingested (see above); nothing was written for them`,
      'ingest_rejected',
    );
}

export async function list(ctx: Context): Promise<void> {
  const { listDocuments } = await import('../../kb/service.js');
  const docs = await ctx.withDb('kb list', (db) => listDocuments(db));
  ctx.out.data(docs);
  if (docs.length === 0) {
    ctx.out.line('The knowledge base is empty — add files with `copilot kb ingest <file...>`.');
    return;
  }
  await ctx.out.table(
    ['ID', 'Name', 'Title', 'Type', 'Collection', 'Pages', 'Chunks', 'Embedded', 'Size', 'Ingested', 'Fetched'],
    docs.map((d) => [
      d.id,
      d.name,
      d.web?.title ? truncate(d.web.title, 40) : '',
      d.type,
      d.collection,
      d.pages,
      d.chunks,
      d.chunks ? `${Math.round((100 * d.embedded) / d.chunks)}%` : '–',
      sizeLabel(d.bytes),
      when(d.createdAt),
      d.web ? when(d.web.fetchedAt) : '',
    ]),
  );
}

export async function show(ctx: Context, ref: string): Promise<void> {
  const { showDocument } = await import('../../kb/service.js');
  const result = await ctx.withDb('kb show', (db) => showDocument(db, ref));
  const { out } = ctx;
  out.data(result);
  const d = result.document;
  out.line(`${out.style.bold(d.web?.title ?? d.name)} (id ${d.id}, ${d.type})`);
  if (d.web)
    out.line(`${d.web.url} · fetched ${when(d.web.fetchedAt)} · from ${d.web.sourceKind}${d.web.sourceUrl ? ` ${d.web.sourceUrl}` : ''}`);
  if (result.sections.length > 0) {
    out.line('sections:');
    for (const section of result.sections) out.line(`  ${section}`);
  }
  out.line(
    `collection ${d.collection} · pages ${d.pages} · chunks ${d.chunks} · embedded ${d.embedded} · ${sizeLabel(d.bytes)} · sha256 ${d.sha256.slice(0, 12)}… · ingested ${when(d.createdAt)}${d.embeddingModel ? ` · model ${d.embeddingModel}` : ''}`,
  );
  for (const c of result.chunks) {
    const where = c.page !== null ? `p.${c.page}` : c.section ? `§ ${c.section}` : '';
    out.line('');
    out.line(out.style.dim(`#${c.ordinal} ${where}${c.embedded ? '' : ' (no vector)'}`));
    out.line(truncate(c.content, 400));
  }
}

export async function remove(ctx: Context, refs: string[]): Promise<void> {
  const { removeDocuments } = await import('../../kb/service.js');
  const removed = await ctx.withDb('kb remove', (db) => removeDocuments(db, refs));
  ctx.out.data(removed);
  for (const d of removed) ctx.out.line(`${ctx.out.style.green('removed')} ${d.name} (id ${d.id})`);
}

export async function search(ctx: Context, words: string[], opts: { k: number; channel?: string }): Promise<void> {
  const { k } = opts;
  const query = words.join(' ').trim();
  if (!query) throw new UserError('the search query is empty', 'empty_query');
  const channel = opts.channel === undefined ? undefined : assertSnowflake(opts.channel);
  const { collectionsOfChannel, searchKnowledgeBase } = await import('../../kb/service.js');
  const embedder = createEmbedder(ctx.config);
  const result = await ctx.withDb('kb search', async (db) => {
    const collections = channel === undefined ? null : await collectionsOfChannel(db, channel);
    return searchKnowledgeBase(db, embedder, query, { k, collections });
  });
  const { out } = ctx;
  if (result.notice) out.note(out.style.yellow(result.notice));
  if (result.warning) out.warn(result.warning);
  out.data({
    mode: result.mode,
    relevance: result.relevance,
    results: result.passages.map((p, i) => ({
      rank: i + 1,
      score: p.score,
      cosine: p.cosine,
      coverage: p.coverage,
      document: p.documentName,
      title: p.title ?? null,
      url: p.url ?? null,
      page: p.page,
      section: p.section,
      content: p.content,
    })),
  });
  if (result.passages.length === 0) {
    out.line('No matching passages.');
    return;
  }
  await out.table(
    ['#', 'Score', 'File', 'Page', 'Snippet'],
    result.passages.map((p, i) => [
      i + 1,
      p.score.toFixed(4),
      p.documentName,
      p.page ?? (p.section ? `§ ${p.section}` : ''),
      truncate(p.content, 90),
    ]),
  );
  out.note(
    out.style.dim(
      `${result.mode} retrieval · relevance ${result.relevance.score.toFixed(2)} (${result.relevance.answerable ? 'likely covered' : 'probably not covered'})`,
    ),
  );
}

export async function embed(ctx: Context, opts: { rebuild?: boolean }): Promise<void> {
  const { embedMissing } = await import('../../kb/service.js');
  const embedder = createEmbedder(ctx.config);
  const progress = await startProgress(ctx.out, 'embedding');
  try {
    const result = await ctx.withDb('kb embed', (db) =>
      embedMissing(db, embedder, { rebuild: opts.rebuild, onProgress: (p) => progress.update(`chunks embedded ${bar(p.done, p.total)}`) }),
    );
    progress.stop();
    ctx.out.data(result);
    ctx.out.line(
      `${ctx.out.style.green('embedded')} ${result.embedded} chunk(s) with ${result.model} (${result.dimension} dimensions)${result.rebuilt ? ', rebuilt' : ''}`,
    );
  } catch (err) {
    progress.stop();
    throw err;
  }
}

/** How far back --since may reach: 100 years (older dates are outside what the database stores). */
const MAX_SINCE_MS = 100 * 365 * 86_400_000;

export function parseSince(value: string | undefined, now = Date.now()): Date {
  const m = /^(\d+)\s*([mhdw])$/.exec((value ?? '7d').trim());
  if (!m) throw new UserError(`--since must look like 30m, 24h, 7d or 2w (got "${value}")`, 'bad_since');
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  const ms = Number(m[1]) * unit;
  if (!(ms <= MAX_SINCE_MS)) throw new UserError(`--since reaches back at most 100 years, e.g. 36500d (got "${value}")`, 'bad_since');
  return new Date(now - ms);
}

export async function gaps(ctx: Context, opts: { since?: string }): Promise<void> {
  const since = parseSince(opts.since);
  const { listGaps } = await import('../../kb/service.js');
  const rows = await ctx.withDb('kb gaps', (db) => listGaps(db, since));
  ctx.out.data(rows);
  if (rows.length === 0) {
    ctx.out.line(`No unanswered questions since ${when(since)}.`);
    return;
  }
  await ctx.out.table(
    ['Count', 'Question', 'Last asked'],
    rows.map((g) => [g.count, truncate(g.question, 80), when(g.lastAskedAt)]),
  );
}

export async function sync(ctx: Context, refs: string[]): Promise<void> {
  const { out } = ctx;
  const embedder = createEmbedder(ctx.config);
  if (!embedder) out.note(out.style.yellow(NO_EMBEDDER));
  const { WebClient } = await import('../../kb/fetch/client.js');
  const { syncWeb } = await import('../../kb/web.js');
  const client = new WebClient();
  const progress = await startProgress(out, 'checking pages');
  let summary;
  try {
    summary = await ctx.withDb('kb sync', (db) =>
      syncWeb(
        {
          deps: { db, embedder, maxFileBytes: ctx.config.maxFileBytes },
          client,
          onCount: (done, known) => progress.update(`pages checked ${bar(done, known)}`),
          onOutcome: (o) => {
            if (o.status === 'gone')
              out.note(`${out.style.yellow('gone')} ${o.message} — kept until \`copilot kb remove ${o.documentId}\``);
            else if (o.status === 'failed') out.note(`${out.style.red('✗')} ${o.message}`);
          },
        },
        refs,
      ),
    );
  } finally {
    progress.stop();
    client.close();
  }
  out.data(summary);
  if (summary.pages.length === 0) {
    out.line('No web documents to sync — add pages with `copilot kb ingest https://…`.');
    return;
  }
  const changed = summary.pages.filter((p) => p.status === 'updated' || p.status === 'added');
  for (const p of changed) out.line(`${out.style.green(p.status)} ${p.url}`);
  await out.table(
    ['Unchanged', 'Updated', 'Added', 'Gone', 'Failed'],
    [[summary.unchanged, summary.updated, summary.added, summary.gone, summary.failed]],
  );
  if (summary.failed > 0) {
    throw new UserError(`${summary.failed} page(s) could not be synced (see above); their documents were kept as they were`, 'sync_failed');
  }
}

export async function move(ctx: Context, refs: string[], opts: { collection: string }): Promise<void> {
  const { parseCollection } = await import('../../kb/ingest/web.js');
  const collection = parseCollection(opts.collection);
  const { moveDocuments } = await import('../../kb/service.js');
  const moved = await ctx.withDb('kb move', (db) => moveDocuments(db, refs, collection));
  ctx.out.data(moved.map((m) => ({ id: m.document.id, name: m.document.name, from: m.from, collection })));
  for (const m of moved)
    ctx.out.line(`${ctx.out.style.green('moved')} ${m.document.name} (id ${m.document.id}): ${m.from} → ${collection}`);
}
