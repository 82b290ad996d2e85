/**
 * A 5×9 bitmap font for printable ASCII (32–126), drawn for this project.
 *
 * Each glyph is one string of up to 9 base-32 digits, one per pixel row from the top; a digit's
 * 5 bits are the row's pixels, the most significant bit leftmost ('v' = 31 = #####). Missing
 * trailing rows are blank. Capitals and digits stand 7 rows tall on the baseline (row 6); rows 7
 * and 8 hold descenders (g j p q y , ; _). So 'A' = "ehhvhhh" reads
 *   .###.  #...#  #...#  #####  #...#  #...#  #...#
 */
export const GLYPH_WIDTH = 5;
export const GLYPH_ROWS = 9;
/** Height of capitals and digits, the part of a line text is measured by. */
export const CAP_HEIGHT = 7;
/** Horizontal distance from one character to the next (one blank column between glyphs). */
export const ADVANCE = 6;
/** Vertical distance from one line of text to the next. */
export const LINE_HEIGHT = 11;

const GLYPHS = (
  '0 4444404 aaa aavavaa 4fke5u4 op248j3 cik8lid 444 2488842 8422248 04lel4 044v44 00000cc48 000e ' +
  '00000cc 122488g ehjlphe 4c4444e eh1248v v2421he 26aiv22 vgu11he 68guhhe v124888 ehhehhe ehhf12c ' +
  '0cc0cc 0cc0cc48 248g842 00v0v 8421248 eh12404 ehnlnge ehhvhhh uhhuhhu ehggghe sihhhis vgguggv ' +
  'vgguggg ehgnhhf hhhvhhh e44444e 72222ic hikokih ggggggv hrllhhh hhpljhh ehhhhhe uhhuggg ehhhlid ' +
  'uhhukih fgge11u v444444 hhhhhhe hhhhha4 hhhllla hha4ahh hha4444 v1248gv e88888e g884221 e22222e ' +
  '4ah 0000000v 84 00e1fhf gguhhhu 00egghe 11fhhhf 00ehvge 698s888 00fhhhf1e ggmphhh 40c444e ' +
  '2062222ic ggikoki c44444e 00qllll 00mphhh 00ehhhe 00uhhhugg 00fhhhf11 00mpggg 00fge1u 88s8896 ' +
  '00hhhjd 00hhha4 00hhlla 00ha4ah 00hhhhf1e 00v248v 3448443 444444444 o44244o 008l2'
).split(' ');

const FIRST = 32;
const LAST = 126;
const DECODED = GLYPHS.map((g) => Array.from({ length: GLYPH_ROWS }, (_, r) => (r < g.length ? parseInt(g[r], 32) : 0)));

/** The 9 row bitmasks of `ch` (bit 4 = leftmost column); characters outside 32–126 draw as '?'. */
export function glyphRows(ch: string): readonly number[] {
  const code = ch.codePointAt(0) ?? 63;
  return DECODED[(code >= FIRST && code <= LAST ? code : 63) - FIRST];
}
