/**
 * The glossary: the command polytopeLens.openGlossary opens docs/glossary.md of the extension's own folder in the
 * Markdown preview, scrolled to a term's section. Hover links call the command; the webviews' ⓘ links send
 * {type: 'openGlossary', term} and every page's host hands the raw message to handleGlossaryMessage first.
 */
import * as vscode from 'vscode';
import { GLOSSARY, GLOSSARY_DOC, OPEN_GLOSSARY_COMMAND, isGlossaryTermId, type GlossaryTermId } from '../shared/glossary';
import { parseGlossaryMessage } from '../shared/webview-protocol';

export class GlossaryProvider {
  static register(context: vscode.ExtensionContext, log?: { info(m: string): void }): void {
    context.subscriptions.push(
      vscode.commands.registerCommand(OPEN_GLOSSARY_COMMAND, async (args?: unknown) => {
        // From a hover link: [{term}]; from the palette: nothing (the top of the page). Anything else: the top.
        const id = typeof args === 'object' && args !== null && isGlossaryTermId((args as { term?: unknown }).term) ? (args as { term: GlossaryTermId }).term : undefined;
        let uri = vscode.Uri.joinPath(context.extensionUri, GLOSSARY_DOC);
        if (id) uri = uri.with({ fragment: GLOSSARY[id].anchor });
        log?.info(`glossary: ${id ?? '(top)'}`);
        await vscode.commands.executeCommand('markdown.showPreview', uri);
      }),
    );
  }
}

/** Opens the glossary when `raw` (a webview message, untrusted) asks for it; true when it was such a message. */
export function handleGlossaryMessage(raw: unknown): boolean {
  const m = parseGlossaryMessage(raw);
  if (!m) return false;
  void vscode.commands.executeCommand(OPEN_GLOSSARY_COMMAND, { term: m.term });
  return true;
}
