;; elementwise.wat: the memory-bound layers of a training step on WebAssembly SIMD (f32x4):
;; ReLU, 2×2 max-pooling and the per-channel passes of batch normalization.
;;
;; Each reads and writes every value once or twice and does a few operations with it, so what
;; matters is streaming memory four floats at a time; there is no reuse to block for. The
;; TypeScript side (src/backend/wasm/elementwise.ts) computes the per-channel constants (a
;; handful of numbers per channel) and calls these for the heavy passes.
;;
;; Layout: NCHW, so channel c of image n is S = H·W consecutive floats at ((n·C + c)·S).
;; Sums are accumulated in f64 (two f64x2 per f32x4), as the TypeScript specification's are:
;; a channel of a 64-image batch at 40×40 is 102,400 terms.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; y = x > 0 ? x : 0, n values. pmax(0, x) is "0 < x ? x : 0": NaN and −0 become +0, as in the spec.
  (func (export "relu") (param $x i32) (param $y i32) (param $n i32)
    (local $i i32) (local $end4 i32)
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $done4 (loop $vec
      (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
      (v128.store (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2)))
        (f32x4.pmax (v128.const f32x4 0 0 0 0) (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $vec)))
    (block $done (loop $tail
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (f32.store (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2)))
        (select (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (f32.const 0)
          (f32.gt (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (f32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $tail))))

  ;; dx = y > 0 ? dy : 0 (the mask of the forward output), n values.
  (func (export "relu_backward") (param $y i32) (param $dy i32) (param $dx i32) (param $n i32)
    (local $i i32) (local $end4 i32) (local $o i32)
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $done4 (loop $vec
      (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (v128.store (i32.add (local.get $dx) (local.get $o))
        (v128.and (v128.load (i32.add (local.get $dy) (local.get $o)))
          (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $o))) (v128.const f32x4 0 0 0 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $vec)))
    (block $done (loop $tail
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (f32.store (i32.add (local.get $dx) (local.get $o))
        (select (f32.load (i32.add (local.get $dy) (local.get $o))) (f32.const 0)
          (f32.gt (f32.load (i32.add (local.get $y) (local.get $o))) (f32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $tail))))

  ;; The index (0–3, row-major) of the first maximum of a 2×2 window: later cells win only if greater.
  (func $argmax4 (param $a f32) (param $b f32) (param $c f32) (param $d f32) (result i32)
    (local $best f32) (local $at i32)
    (local.set $best (local.get $a))
    (if (f32.gt (local.get $b) (local.get $best)) (then (local.set $best (local.get $b)) (local.set $at (i32.const 1))))
    (if (f32.gt (local.get $c) (local.get $best)) (then (local.set $best (local.get $c)) (local.set $at (i32.const 2))))
    (if (f32.gt (local.get $d) (local.get $best)) (then (local.set $at (i32.const 3))))
    (local.get $at))

  ;; 2×2 windows at stride 2, no padding, over `planes` = N·C planes of H×W: OH = H/2, OW = W/2
  ;; (a last odd row or column is never in a window). Forward writes each window's first maximum;
  ;; backward writes all of dx: dy at the argmax, 0 elsewhere (windows do not overlap).
  (func (export "maxpool2x2") (param $x i32) (param $y i32) (param $planes i32) (param $H i32) (param $W i32) (param $dy i32) (param $dx i32)
    ;; $dy = 0: forward (x → y). Otherwise backward: y unused, dx from x and dy.
    (local $p i32) (local $oh i32) (local $ow i32) (local $OH i32) (local $OW i32)
    (local $top i32) (local $bot i32) (local $o i32) (local $k i32) (local $g f32) (local $rowB i32)
    (local $t0 v128) (local $t1 v128) (local $b0 v128) (local $b1 v128)
    (local.set $OH (i32.shr_u (local.get $H) (i32.const 1)))
    (local.set $OW (i32.shr_u (local.get $W) (i32.const 1)))
    (local.set $rowB (i32.shl (local.get $W) (i32.const 2)))
    (if (local.get $dy) (then
      ;; every dx starts at 0 (odd edges included); windows then write their argmax
      (memory.fill (local.get $dx) (i32.const 0)
        (i32.shl (i32.mul (local.get $planes) (i32.mul (local.get $H) (local.get $W))) (i32.const 2)))))
    (block $end (loop $planesLoop
      (br_if $end (i32.ge_u (local.get $p) (local.get $planes)))
      (local.set $oh (i32.const 0))
      (block $rowsEnd (loop $rows
        (br_if $rowsEnd (i32.ge_u (local.get $oh) (local.get $OH)))
        (local.set $top (i32.shl (i32.mul (i32.add (i32.mul (local.get $p) (local.get $H)) (i32.shl (local.get $oh) (i32.const 1))) (local.get $W)) (i32.const 2)))
        (local.set $bot (i32.add (local.get $top) (local.get $rowB)))
        (local.set $ow (i32.const 0))
        (if (i32.eqz (local.get $dy)) (then
          ;; Forward, four windows at a time: the two rows' 8 values split into the windows' left
          ;; (even) and right (odd) columns, then pmax(pmax(pmax(a, b), c), d). pmax(m, v) is
          ;; m < v ? v : m, exactly the scalar "later cells win only if greater" (ties, ±0 and NaN
          ;; included), so both paths give the same value. 2(ow + 4) ≤ W: no read past the row.
          (local.set $o (i32.shl (i32.mul (i32.add (i32.mul (local.get $p) (local.get $OH)) (local.get $oh)) (local.get $OW)) (i32.const 2)))
          (block $vecEnd (loop $vec
            (br_if $vecEnd (i32.gt_u (i32.add (local.get $ow) (i32.const 4)) (local.get $OW)))
            (local.set $t0 (v128.load (i32.add (local.get $x) (local.get $top))))
            (local.set $t1 (v128.load offset=16 (i32.add (local.get $x) (local.get $top))))
            (local.set $b0 (v128.load (i32.add (local.get $x) (local.get $bot))))
            (local.set $b1 (v128.load offset=16 (i32.add (local.get $x) (local.get $bot))))
            (v128.store (i32.add (local.get $y) (local.get $o))
              (f32x4.pmax
                (f32x4.pmax
                  (f32x4.pmax
                    (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $t0) (local.get $t1))
                    (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $t0) (local.get $t1)))
                  (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $b0) (local.get $b1)))
                (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $b0) (local.get $b1))))
            (local.set $top (i32.add (local.get $top) (i32.const 32)))
            (local.set $bot (i32.add (local.get $bot) (i32.const 32)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (local.set $ow (i32.add (local.get $ow) (i32.const 4)))
            (br $vec)))))
        ;; one window at a time: the backward pass, and the forward pass's last 0–3 windows
        (block $colsEnd (loop $cols
          (br_if $colsEnd (i32.ge_u (local.get $ow) (local.get $OW)))
          (local.set $k (call $argmax4
            (f32.load (i32.add (local.get $x) (local.get $top)))
            (f32.load offset=4 (i32.add (local.get $x) (local.get $top)))
            (f32.load (i32.add (local.get $x) (local.get $bot)))
            (f32.load offset=4 (i32.add (local.get $x) (local.get $bot)))))
          ;; byte offset of the winner: row (k >> 1), column (k & 1)
          (local.set $k (i32.add (select (local.get $bot) (local.get $top) (i32.shr_u (local.get $k) (i32.const 1)))
                                 (i32.shl (i32.and (local.get $k) (i32.const 1)) (i32.const 2))))
          (local.set $o (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $p) (local.get $OH)) (local.get $oh)) (local.get $OW)) (local.get $ow)) (i32.const 2)))
          (if (local.get $dy)
            (then (f32.store (i32.add (local.get $dx) (local.get $k)) (f32.load (i32.add (local.get $dy) (local.get $o)))))
            (else (f32.store (i32.add (local.get $y) (local.get $o)) (f32.load (i32.add (local.get $x) (local.get $k))))))
          (local.set $top (i32.add (local.get $top) (i32.const 8)))
          (local.set $bot (i32.add (local.get $bot) (i32.const 8)))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br $cols)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $rows)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $planesLoop))))

  ;; Σ over channel c of (a − ca)·(b − cb) when b ≠ 0, else Σ (a − ca): the sums batch norm needs
  ;; (mean: a = x; variance: a = b = x, ca = cb = mean; backward: a = dy, b = x, cb = mean).
  (func (export "chan_dot") (param $a i32) (param $b i32) (param $N i32) (param $C i32) (param $S i32) (param $c i32)
    (param $ca f32) (param $cb f32) (result f64)
    (local $n i32) (local $i i32) (local $end4 i32) (local $base i32) (local $o i32)
    (local $va v128) (local $acc0 v128) (local $acc1 v128) (local $sum f64) (local $sa v128) (local $sb v128)
    (local.set $end4 (i32.and (local.get $S) (i32.const -4)))
    (local.set $sa (f32x4.splat (local.get $ca)))
    (local.set $sb (f32x4.splat (local.get $cb)))
    (block $end (loop $images
      (br_if $end (i32.ge_u (local.get $n) (local.get $N)))
      (local.set $base (i32.shl (i32.mul (i32.add (i32.mul (local.get $n) (local.get $C)) (local.get $c)) (local.get $S)) (i32.const 2)))
      (local.set $i (i32.const 0))
      (block $done4 (loop $vec
        (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $o (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $va (f32x4.sub (v128.load (i32.add (local.get $a) (local.get $o))) (local.get $sa)))
        (if (local.get $b) (then
          (local.set $va (f32x4.mul (local.get $va) (f32x4.sub (v128.load (i32.add (local.get $b) (local.get $o))) (local.get $sb))))))
        (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.promote_low_f32x4 (local.get $va))))
        (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $va) (local.get $va)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vec)))
      (block $done (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $S)))
        (local.set $o (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $sum (f64.add (local.get $sum) (f64.promote_f32
          (if (result f32) (local.get $b)
            (then (f32.mul (f32.sub (f32.load (i32.add (local.get $a) (local.get $o))) (local.get $ca))
                           (f32.sub (f32.load (i32.add (local.get $b) (local.get $o))) (local.get $cb))))
            (else (f32.sub (f32.load (i32.add (local.get $a) (local.get $o))) (local.get $ca)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $images)))
    (local.set $acc0 (f64x2.add (local.get $acc0) (local.get $acc1)))
    (f64.add (local.get $sum) (f64.add (f64x2.extract_lane 0 (local.get $acc0)) (f64x2.extract_lane 1 (local.get $acc0)))))

;; out = k1·a + k2·(b − cb) + k3 over channel c, a term dropped where its address is 0: batch
  ;; norm's normalisation (b = x: gamma·invStd·(x − mean) + beta) and its input gradient
  ;; (a = dy, b = x), with the per-channel constants folded in. Subtracting the mean before
  ;; scaling, as the specification does, keeps the cancellation of a tiny batch exact.
  (func (export "chan_affine") (param $a i32) (param $b i32) (param $out i32) (param $N i32) (param $C i32) (param $S i32) (param $c i32)
    (param $k1 f32) (param $k2 f32) (param $cb f32) (param $k3 f32)
    (local $n i32) (local $i i32) (local $end4 i32) (local $base i32) (local $o i32) (local $v v128)
    (local $s1 v128) (local $s2 v128) (local $sc v128) (local $s3 v128) (local $f f32)
    (local.set $end4 (i32.and (local.get $S) (i32.const -4)))
    (local.set $s1 (f32x4.splat (local.get $k1)))
    (local.set $s2 (f32x4.splat (local.get $k2)))
    (local.set $sc (f32x4.splat (local.get $cb)))
    (local.set $s3 (f32x4.splat (local.get $k3)))
    (block $end (loop $images
      (br_if $end (i32.ge_u (local.get $n) (local.get $N)))
      (local.set $base (i32.shl (i32.mul (i32.add (i32.mul (local.get $n) (local.get $C)) (local.get $c)) (local.get $S)) (i32.const 2)))
      (local.set $i (i32.const 0))
      (block $done4 (loop $vec
        (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $o (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $v (local.get $s3))
        (if (local.get $b) (then
          (local.set $v (f32x4.add (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $b) (local.get $o))) (local.get $sc)) (local.get $s2)) (local.get $v)))))
        (if (local.get $a) (then
          (local.set $v (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $o))) (local.get $s1)) (local.get $v)))))
        (v128.store (i32.add (local.get $out) (local.get $o)) (local.get $v))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vec)))
      (block $done (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $S)))
        (local.set $o (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $f (local.get $k3))
        (if (local.get $b) (then
          (local.set $f (f32.add (f32.mul (f32.sub (f32.load (i32.add (local.get $b) (local.get $o))) (local.get $cb)) (local.get $k2)) (local.get $f)))))
        (if (local.get $a) (then
          (local.set $f (f32.add (f32.mul (f32.load (i32.add (local.get $a) (local.get $o))) (local.get $k1)) (local.get $f)))))
        (f32.store (i32.add (local.get $out) (local.get $o)) (local.get $f))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $images))))

  ;; One float at a byte address: how the drivers, which run in worker threads with only these
  ;; exports at hand, read batch norm's per-channel parameters and write its statistics.
  (func (export "f32_get") (param $at i32) (result f32) (f32.load (local.get $at)))
  (func (export "f32_set") (param $at i32) (param $v f32) (f32.store (local.get $at) (local.get $v)))
)
