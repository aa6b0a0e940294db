// Each finding kind links to its section of media/docs/findings.md. A diagnostic's code target
// is a file URI; the `L<line>` fragment makes the editor open the page at the kind's heading.

/** The 1-based line of each kind's heading (`## \`server-binding\``) in the findings page. */
export function kindHeadingLines(markdown: string): Map<string, number> {
    const lines = new Map<string, number>();
    markdown.split(/\r?\n/).forEach((line, index) => {
        const heading = /^##\s+`([a-z0-9-]+)`/.exec(line);
        if (heading?.[1]) lines.set(heading[1], index + 1);
    });
    return lines;
}
