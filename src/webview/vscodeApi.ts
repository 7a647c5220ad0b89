import type { GlossaryToHost } from '../shared/webview-protocol';

/** The webview side of a channel: typed post, typed state. acquireVsCodeApi may be called once per page. */
interface VsCodeApi<S> {
  postMessage(msg: unknown): void;
  getState(): S | undefined;
  setState(s: S): void;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

// acquireVsCodeApi may be called once per page: the page's channel and the glossary links (term.ts) share it.
let acquired: VsCodeApi<unknown> | undefined;
function acquire<S>(): VsCodeApi<S> {
  return (acquired ??= acquireVsCodeApi<unknown>()) as VsCodeApi<S>;
}

export function vscodeApi<ToHost, S>(): { post(m: ToHost): void; getState(): S | undefined; setState(s: S): void } {
  const api = acquire<S>();
  return { post: (m) => api.postMessage(m), getState: () => api.getState(), setState: (s) => api.setState(s) };
}

/** Posts a message that every page may send whatever its channel (the host parses it with parseGlossaryMessage). */
export function postGlossary(m: GlossaryToHost): void {
  acquire().postMessage(m);
}

/** A tiny element builder (no innerHTML anywhere: model names are untrusted text). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: (Node | string | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== false) el.setAttribute(k, v === true ? '' : String(v));
  for (const c of children) if (c !== undefined && c !== false) el.append(c);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}
