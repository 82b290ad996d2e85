import { FerError } from '../backend/errors.ts';

/**
 * A minimal XML reader for OpenCV's FileStorage files: elements, attributes, text, comments,
 * the `<?xml?>` prolog and CDATA. Enough for cascade files, and no more: no namespaces, no DTDs,
 * no entities beyond the five predefined ones and numeric references.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (not its children's), entities decoded, untrimmed. */
  text: string;
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const ATTR = /\s*([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)')/y;

function decode(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

/** Parses `text` and returns its root element; `source` names the file in errors. */
export function parseXml(text: string, source: string): XmlElement {
  let pos = 0;
  const fail = (what: string, at = pos): never => {
    const line = text.slice(0, at).split('\n').length;
    throw new FerError(`${source}: malformed XML at line ${line}: ${what}`);
  };
  const skipTo = (end: string, what: string): void => {
    const i = text.indexOf(end, pos);
    if (i < 0) fail(`unterminated ${what} (truncated file?)`);
    pos = i + end.length;
  };

  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  while (pos < text.length) {
    const lt = text.indexOf('<', pos);
    const chunk = text.slice(pos, lt < 0 ? text.length : lt);
    if (stack.length > 0) stack[stack.length - 1].text += decode(chunk);
    else if (chunk.trim() !== '') fail('text outside the root element');
    if (lt < 0) break;
    pos = lt;
    if (text.startsWith('<!--', pos)) skipTo('-->', 'comment');
    else if (text.startsWith('<?', pos)) skipTo('?>', 'processing instruction');
    else if (text.startsWith('<![CDATA[', pos)) {
      const end = text.indexOf(']]>', pos);
      if (end < 0) fail('unterminated CDATA section (truncated file?)');
      if (stack.length === 0) fail('CDATA outside the root element');
      stack[stack.length - 1].text += text.slice(pos + 9, end);
      pos = end + 3;
    } else if (text.startsWith('<!', pos)) skipTo('>', 'declaration');
    else if (text.startsWith('</', pos)) {
      NAME.lastIndex = pos + 2;
      const m = NAME.exec(text);
      if (!m) fail('bad closing tag');
      pos = NAME.lastIndex;
      while (pos < text.length && /\s/.test(text[pos])) pos++;
      if (pos >= text.length) fail(`file ends inside </${m![0]} (truncated file?)`);
      if (text[pos] !== '>') fail(`bad closing tag </${m![0]}`);
      const open = stack.pop();
      if (!open) fail(`unexpected </${m![0]}>`);
      if (open!.name !== m![0]) fail(`</${m![0]}> closes <${open!.name}>`, lt);
      pos++;
    } else {
      NAME.lastIndex = pos + 1;
      const m = NAME.exec(text);
      if (!m) fail('bad tag');
      const el: XmlElement = { name: m![0], attrs: {}, children: [], text: '' };
      pos = NAME.lastIndex;
      for (;;) {
        ATTR.lastIndex = pos;
        const a = ATTR.exec(text);
        if (!a) break;
        el.attrs[a[1]] = decode(a[3] ?? a[4]);
        pos = ATTR.lastIndex;
      }
      while (pos < text.length && /\s/.test(text[pos])) pos++;
      if (pos >= text.length) fail(`file ends inside <${el.name} (truncated file?)`);
      const selfClosing = text.startsWith('/>', pos);
      if (!selfClosing && text[pos] !== '>') fail(`bad tag <${el.name}`);
      pos += selfClosing ? 2 : 1;
      if (stack.length > 0) stack[stack.length - 1].children.push(el);
      else if (root) fail(`second root element <${el.name}>`, lt);
      else root = el;
      if (!selfClosing) stack.push(el);
    }
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1].name}> is never closed (truncated file?)`);
  if (!root) fail('no root element');
  return root!;
}

/** The first child named `name`, or undefined. */
export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}
