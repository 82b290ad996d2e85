import { describe, expect, it } from 'vitest';
import { groupRectangles, partition, similarRects, type Rect } from '../../src/detect/group.ts';

const r = (x: number, y: number, width: number, height = width): Rect => ({ x, y, width, height });

describe('groupRectangles (OpenCV semantics)', () => {
  it('similarity: every edge within eps·(min w + min h)/2', () => {
    // δ = 0.2·(50 + 50)/2 = 10.
    expect(similarRects(r(100, 100, 50), r(110, 90, 50), 0.2)).toBe(true);
    expect(similarRects(r(100, 100, 50), r(111, 100, 50), 0.2)).toBe(false);
    // Same top-left, right edge 10 away (width 60): δ uses the smaller size, still 10.
    expect(similarRects(r(100, 100, 50), r(100, 100, 60), 0.2)).toBe(true);
    expect(similarRects(r(100, 100, 50), r(100, 100, 61), 0.2)).toBe(false);
  });

  it('partition joins chains transitively and numbers clusters by first appearance', () => {
    // b~c and c~d but not b~d; a stands alone.
    const rects = [r(300, 300, 20), r(100, 100, 50), r(110, 100, 50), r(120, 100, 50)];
    expect(similarRects(rects[1], rects[3], 0.2)).toBe(false);
    const { labels, count } = partition(rects, 0.2);
    expect(count).toBe(2);
    expect(Array.from(labels)).toEqual([0, 1, 1, 1]);
  });

  it('averages each cluster, rounding ties to even, and counts its members', () => {
    // x: (10+11+10+11)/4 = 10.5 → 10; y: (11+12+11+12)/4 = 11.5 → 12; w: 50.25 → 50; h: 49.75 → 50.
    const rects = [
      { x: 10, y: 11, width: 50, height: 50 },
      { x: 11, y: 12, width: 51, height: 49 },
      { x: 10, y: 11, width: 50, height: 50 },
      { x: 11, y: 12, width: 50, height: 50 },
    ];
    expect(groupRectangles(rects, 3)).toEqual([{ x: 10, y: 12, width: 50, height: 50, neighbors: 4 }]);
  });

  it('drops clusters with groupThreshold members or fewer', () => {
    const three = [r(10, 10, 40), r(11, 10, 40), r(10, 11, 40)];
    const five = [r(200, 200, 40), r(201, 200, 40), r(200, 201, 40), r(202, 202, 40), r(199, 199, 40)];
    const out = groupRectangles([...three, ...five], 3);
    expect(out).toEqual([{ x: 200, y: 200, width: 40, height: 40, neighbors: 5 }]);
    expect(groupRectangles(three, 2)).toHaveLength(1);
  });

  it('removes a small cluster inside a bigger one that has more than max(3, n) members', () => {
    const big = Array.from({ length: 6 }, (_, i) => r(100 + (i % 3), 100, 100));
    const small = Array.from({ length: 4 }, (_, i) => r(130 + (i % 2), 130, 30));
    expect(groupRectangles([...big, ...small], 3)).toEqual([{ x: 101, y: 100, width: 100, height: 100, neighbors: 6 }]);
    // A small cluster with more members than the big one survives.
    const crowd = Array.from({ length: 8 }, (_, i) => r(130 + (i % 2), 130, 30));
    expect(groupRectangles([...big, ...crowd], 3)).toHaveLength(2);
    // Inside "within eps": 10% outside the big box still counts as inside.
    const edge = Array.from({ length: 4 }, () => r(85, 85, 30));
    expect(groupRectangles([...big, ...edge], 3)).toHaveLength(1);
    const outside = Array.from({ length: 4 }, () => r(75, 75, 30));
    expect(groupRectangles([...big, ...outside], 3)).toHaveLength(2);
  });

  it('a cluster of fewer than 3 goes when inside any surviving cluster', () => {
    const big = [r(100, 100, 100), r(101, 100, 100)];
    const small = [r(130, 130, 30), r(131, 130, 30)];
    expect(groupRectangles([...big, ...small], 1)).toEqual([{ x: 100, y: 100, width: 100, height: 100, neighbors: 2 }]);
  });

  it('groupThreshold 0 returns the rectangles as they are, one neighbour each', () => {
    const rects = [r(1, 2, 30), r(2, 2, 30)];
    expect(groupRectangles(rects, 0)).toEqual(rects.map((x) => ({ ...x, neighbors: 1 })));
    expect(groupRectangles([], 3)).toEqual([]);
  });
});
