// One masker for everything the product stores, shows or logs: container log lines, HTTP
// evidence, error sentences and the extension's own log. Pure, with no imports, so the small
// extension-host bundle can use it too.

const MASK = '***';
const SECRET_NAME = String.raw`[A-Za-z0-9_.-]*(?:PASSWORD|PASSWD|PASSPHRASE|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|SESSION_?KEY|CREDENTIALS?|AUTHORIZATION)[A-Za-z0-9_.-]*`;

function escapeRe(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// A value already masked, or a scheme word whose token is, is left alone.
/** A quoted value stays quoted, so masked JSON is still JSON. */
function quoted(value: string): string {
    const quote = value[0] === '"' || value[0] === "'" ? value[0] : '';
    return `${quote}${MASK}${quote}`;
}

const NOT_MASKED = `(?!${escapeRe(MASK)}|(?:Basic|Bearer|Token)\\s+${escapeRe(MASK)})`;

/**
 * Masks values that look like credentials: `NAME=value` / `NAME: value` where the name says
 * password, secret, token or key; `--password value` flags; `user:password@` in URLs;
 * `Basic|Bearer|Token <value>` wherever it appears; and AWS access key ids. The names stay, so
 * the evidence still says what was set.
 */
export function maskSecrets(text: string): string {
    return text
        .replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]+):([^\s@/]+)@/gi, `$1$2:${MASK}@`)
        .replace(/\b(Basic|Bearer|Token)\s+(?!\*\*\*)[A-Za-z0-9._~+/=-]{6,}/gi, `$1 ${MASK}`)
        .replace(
            new RegExp(
                String.raw`(--${SECRET_NAME}(?:=|\s+))${NOT_MASKED}("[^"]*"|'[^']*'|[^\s'",]+)`,
                'gi',
            ),
            `$1${MASK}`,
        )
        .replace(
            new RegExp(
                String.raw`(\b${SECRET_NAME}\b["']?\s*(?:=|:)\s*(?:(?:Basic|Bearer|Token)\s+)?)${NOT_MASKED}("[^"]*"|'[^']*'|[^\s'",;&}<]+)`,
                'gi',
            ),
            (_match, name: string, value: string) => `${name}${quoted(value)}`,
        )
        .replace(/\bAKIA[0-9A-Z]{16}\b/g, 'AKIA****************');
}
