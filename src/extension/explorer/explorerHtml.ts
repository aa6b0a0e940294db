// The explorer's page: one script and one stylesheet from dist/, under a strict CSP. No inline
// script and no eval: the nonce is fresh for every render, so a script that server data managed
// to inject into the page could not guess it.

import { randomBytes } from 'node:crypto';

/** 16 random bytes, base64: what CSP3 asks of a nonce (at least 128 bits). */
export function newNonce(): string {
    return randomBytes(16).toString('base64');
}

export interface ExplorerPage {
    /** `webview.cspSource`: the origin VS Code serves local resources from. */
    cspSource: string;
    nonce: string;
    /** `webview.asWebviewUri(dist/webview.js)`, as a string. */
    scriptUri: string;
    /** `webview.asWebviewUri(dist/webview.css)`, as a string. */
    styleUri: string;
}

/**
 * The policy. Styles: @vscode-elements/lit adopts constructable stylesheets
 * (`adoptedStyleSheets`), which style-src does not govern, so nothing beyond the nonce is needed
 * in Chromium; Lit's fallback of `<style>` elements (for browsers without adopted stylesheets)
 * reads `window.litNonce`, which the webview can set from its own script's nonce. Styles set
 * through the CSSOM (`element.style.x = ...`, as uPlot and Lit's styleMap do) are not blocked;
 * `style="..."` attributes in parsed HTML are, which is what we want.
 */
export function explorerCsp(cspSource: string, nonce: string): string {
    return [
        `default-src 'none'`,
        `script-src 'nonce-${nonce}'`,
        `style-src ${cspSource} 'nonce-${nonce}'`,
        `img-src ${cspSource} data:`,
        `font-src ${cspSource}`,
    ].join('; ');
}

/** Attribute values here come from VS Code, not from a server; quoted all the same. */
function attribute(value: string): string {
    return value
        .replace(/&/g, '&amp;')
        .replace(/"/g, '&quot;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;');
}

export function explorerHtml(page: ExplorerPage): string {
    const nonce = attribute(page.nonce);
    return [
        '<!DOCTYPE html>',
        '<html lang="en">',
        '<head>',
        '<meta charset="UTF-8">',
        `<meta http-equiv="Content-Security-Policy" content="${attribute(explorerCsp(page.cspSource, page.nonce))}">`,
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
        `<link rel="stylesheet" nonce="${nonce}" href="${attribute(page.styleUri)}">`,
        '<title>MLflow Explorer</title>',
        '</head>',
        '<body data-state="loading">',
        '<div id="app"></div>',
        `<script nonce="${nonce}" src="${attribute(page.scriptUri)}"></script>`,
        '</body>',
        '</html>',
    ].join('\n');
}
