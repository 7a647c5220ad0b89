/**
 * A minimal LSP client for tests and benchmarks: spawns `node out/server/main.js --stdio` and speaks JSON-RPC
 * over its stdio with vscode-jsonrpc's message connection.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { CodeLens, Hover, InitializeResult, MarkupContent } from 'vscode-languageserver-protocol';
import { ROOT } from './paths';

export const SERVER = join(ROOT, 'out/server/main.js');

export class LspClient {
  /** Server → client requests seen, by method. */
  readonly seen = new Map<string, number>();
  readonly messages: string[] = [];
  private stderr = '';
  private constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly conn: MessageConnection,
  ) {
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  static async start(
    opts: { initializationOptions?: unknown; refresh?: boolean; handlers?: Record<string, (params: unknown) => unknown>; server?: string; args?: string[] } = {},
  ): Promise<{ client: LspClient; init: InitializeResult }> {
    const server = opts.server ?? SERVER;
    if (!existsSync(server)) throw new Error(`${server} is missing: build first (node esbuild.mjs)`);
    const child = spawn(process.execPath, opts.args ?? [server, '--stdio'], { stdio: 'pipe' });
    const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    const client = new LspClient(child, conn);
    const count = (m: string) => client.seen.set(m, (client.seen.get(m) ?? 0) + 1);
    conn.onRequest('workspace/codeLens/refresh', () => (count('workspace/codeLens/refresh'), null));
    conn.onRequest('client/registerCapability', () => (count('client/registerCapability'), null));
    for (const [m, h] of Object.entries(opts.handlers ?? {})) conn.onRequest(m, (p: unknown) => (count(m), h(p)));
    conn.onNotification('window/logMessage', (p: { message: string }) => void client.messages.push(p.message));
    conn.onNotification('window/showMessage', (p: { message: string }) => void client.messages.push(p.message));
    conn.listen();
    const init = await conn.sendRequest<InitializeResult>('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(ROOT).href,
      capabilities: { workspace: { codeLens: { refreshSupport: opts.refresh ?? true } }, textDocument: { hover: { contentFormat: ['markdown'] } } },
      initializationOptions: opts.initializationOptions,
    });
    await conn.sendNotification('initialized', {});
    return { client, init };
  }

  /** Opens a file (its text read from disk unless given) and returns its URI. */
  async open(path: string, text = readFileSync(path, 'utf8'), version = 1): Promise<string> {
    const uri = pathToFileURL(path).href;
    await this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version, text } });
    return uri;
  }

  async change(uri: string, version: number, changes: unknown[]): Promise<void> {
    await this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
  }

  async hover(uri: string, line: number, character: number): Promise<string | null> {
    const h = await this.conn.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line, character } });
    return h ? (h.contents as MarkupContent).value : null;
  }

  async codeLens(uri: string): Promise<CodeLens[]> {
    return (await this.conn.sendRequest<CodeLens[] | null>('textDocument/codeLens', { textDocument: { uri } })) ?? [];
  }

  async stop(): Promise<void> {
    try {
      await this.conn.sendRequest('shutdown');
      await this.conn.sendNotification('exit');
    } catch {
      /* already gone */
    }
    this.conn.dispose();
    if (this.child.exitCode === null) {
      await new Promise<void>((r) => {
        const t = setTimeout(() => (this.child.kill(), r()), 2000);
        this.child.once('exit', () => (clearTimeout(t), r()));
      });
    }
  }

  get errors(): string {
    return this.stderr;
  }
}

/** Zero-based line and column of the n-th occurrence (0 = first) of `needle` in `text`, plus `shift` columns. */
export function positionOf(text: string, needle: string, shift = 0, n = 0): { line: number; character: number } {
  let at = -1;
  for (let i = 0; i <= n; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`${JSON.stringify(needle)} (#${n}) not found`);
  }
  const before = text.slice(0, at);
  const line = before.split('\n').length - 1;
  return { line, character: at - before.lastIndexOf('\n') - 1 + shift };
}
