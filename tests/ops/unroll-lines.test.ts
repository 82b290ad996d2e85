import { describe, expect, it } from 'vitest';
import { unrollLines } from '../../src/backend/webgpu/kernel.ts';
import directWgsl from '../../shaders/conv2d_direct.wgsl';
import filterDirectWgsl from '../../shaders/conv2d_filter_direct.wgsl';

// unrollLines writes out a shader's `// @unroll` lines (the direct convolutions' register blocks).
describe('unrollLines', () => {
  it('writes a marked line once per value of its loop names, the first outermost, with $name and $(expr) replaced', () => {
    const code = ['a', '  var c$q_$m = vec4f(); // @unroll q<Q m<2', '  x$(4*q+1) = $q; // @unroll q<3', 'b'].join('\n');
    expect(unrollLines(code, { Q: 2 })).toBe(
      ['a', '  var c0_0 = vec4f();', '  var c0_1 = vec4f();', '  var c1_0 = vec4f();', '  var c1_1 = vec4f();', '  x1 = 0;', '  x5 = 1;', '  x9 = 2;', 'b'].join('\n'),
    );
  });

  it('writes a block once per value, nesting blocks and lines, and leaves unmarked lines alone', () => {
    const code = [
      '// @unroll m<M {',
      'let w$m = w[$m];',
      '// @unroll j<2 {',
      'c$m_$j = w$m + $(j*10+m); // @unroll q<1',
      '// @unroll }',
      '// @unroll }',
      'done $ alone',
    ].join('\n');
    expect(unrollLines(code, { M: 2 })).toBe(
      ['let w0 = w[0];', 'c0_0 = w0 + 0;', 'c0_1 = w0 + 10;', 'let w1 = w[1];', 'c1_0 = w1 + 1;', 'c1_1 = w1 + 11;', 'done $ alone'].join('\n'),
    );
    expect(unrollLines('x$m; // @unroll m<0\ny', {})).toBe('y');
  });

  it('refuses in one line: an unknown count, a name outside its loop, an unclosed block', () => {
    expect(() => unrollLines('x // @unroll q<Q', {})).toThrow(/^unrollLines: no count for "Q"$/);
    expect(() => unrollLines('x$m // @unroll q<2', {})).toThrow(/^unrollLines: "m" is not a loop name here: x\$m$/);
    expect(() => unrollLines('// @unroll q<2 {\nx$q', {})).toThrow(/^unrollLines: no "\/\/ @unroll }" closes: \/\/ @unroll q<2 \{$/);
  });

  it('leaves no marker or $ outside comments in the direct convolution shaders at every block they take', () => {
    for (const src of [directWgsl, filterDirectWgsl]) {
      for (const TM of [4, 8]) {
        for (const TN of [4, 8, 12, 16, 20, 24]) {
          const Q = TN / 4;
          const out = unrollLines(src, { TM, TN, Q, R3_TM: TM, R3_Q: Q, R3_TAPS: TN + 2, ANY_TM: TM, ANY_Q: Q, ANY_TN: TN });
          const code = out.split('\n').filter((l) => !l.trim().startsWith('//')).join('\n');
          expect(code).not.toMatch(/@unroll|\$/);
          // Each accumulator c{quad}_{channel} is declared once.
          expect(out.match(/var c\d+_\d+ = vec4f\(\);/g)?.length).toBe((TN / 4) * TM);
        }
      }
    }
  });
});
