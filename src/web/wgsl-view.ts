// WGSL source as the explorer shows it: the file's opening comment (the teaching header: the
// algorithm, who computes what, what goes through workgroup memory) set apart, and light
// colouring for comments, keywords, attributes and types.

const KEYWORDS = new Set(['fn', 'let', 'var', 'const', 'struct', 'for', 'if', 'else', 'return', 'loop', 'break', 'continue', 'while', 'switch', 'case', 'default', 'override', 'alias']);
const TYPES = /^(?:[uif]32|f16|bool|vec[234][uifh]?|mat[234]x[234][fh]?|array|atomic|ptr)$/;

function escape(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

function colourLine(line: string): string {
  const cut = line.indexOf('//');
  const code = cut >= 0 ? line.slice(0, cut) : line;
  const comment = cut >= 0 ? `<span class="comment">${escape(line.slice(cut))}</span>` : '';
  const body = escape(code).replace(/@\w+|\b[A-Za-z_]\w*\b/g, (w) => {
    if (w.startsWith('@')) return `<span class="attr">${w}</span>`;
    if (KEYWORDS.has(w)) return `<span class="kw">${w}</span>`;
    if (TYPES.test(w)) return `<span class="type">${w}</span>`;
    return w;
  });
  return body + comment;
}

/** The source as HTML for a <pre>: header comment in its own block, the rest coloured. */
export function wgslHtml(source: string): string {
  const lines = source.replace(/\r\n/g, '\n').split('\n');
  let end = 0;
  while (end < lines.length && (lines[end].startsWith('//') || (lines[end].trim() === '' && lines[end + 1]?.startsWith('//')))) end++;
  const header = lines.slice(0, end).join('\n');
  const rest = lines.slice(end).map(colourLine).join('\n');
  return `${header ? `<span class="doc">${escape(header)}</span>` : ''}${rest.replace(/^\n+/, '')}`;
}
