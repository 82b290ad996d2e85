;; gemm.wat: the matrix product C = A·B on WebAssembly SIMD (f32x4), the core that matmul and
;; the three convolution passes share on the `wasm` backend (src/backend/wasm/).
;;
;; Why packing. A CPU multiplies fast only from registers and the L1 cache. So, as XNNPACK and
;; every BLAS do, the caller first copies ("packs") the operands into panels laid out in exactly
;; the order this kernel reads them (pack.wat, conv.wat):
;;
;;   A: panels of 4 rows. Panel p holds rows 4p..4p+3 for every k:  a[(p·K + k)·4 + i]
;;   B: panels of 8 columns. Panel q holds columns 8q..8q+7:        b[(q·K + k)·8 + j]
;;
;; Rows and columns past the edge are packed as zeros, so the loop below never branches on them.
;;
;; The register block (micro-kernel). Each call of the inner loop computes a 4×8 block of C,
;; held in eight f32x4 accumulators (row i, columns 0–3 and 4–7). One step of k:
;;   2 vector loads of B (8 numbers), 4 loads of one A number each into all four lanes
;;   (v128.load32_splat: one broadcast load, vbroadcastss on x86, where f32.load then f32x4.splat
;;   is a load and a shuffle: the broadcast load made this loop 27% faster here),
;;   8 vector multiplies and 8 vector adds = 32 multiply-adds for 6 loads.
;; That is 8 + 2 + 1 of the 16 SIMD registers V8 gives x86-64, so nothing spills. (5×8, 6×8 and
;; 7×8 blocks, measured, ran at half the speed: V8 then spills accumulators.)
;; WebAssembly SIMD has no fused multiply-add outside relaxed-SIMD, hence mul then add; on this
;; Zen 5 relaxed_madd measured no faster than mul + add (separate multiply and add pipes).
;;
;; What stays in cache. The caller cuts K into slices of at most 256 (pack.wat's caller,
;; src/backend/wasm/drivers.ts): one B panel slice is 256·8·4 = 8 KiB and stays in L1 while
;; every A panel streams past it from L2 (an A slice of 192 rows is 192 KiB).
;;
;; C is written at c + (m·ldc + n)·4. With `acc` = 1 the block is added to what C holds (the
;; next K slice of the same product). Edge blocks go through 32 floats of scratch at `tmp`.
;;
;; Work per output: K multiply-adds (2K FLOPs).
(module
  (import "env" "memory" (memory 1 65536 shared))

  (func (export "gemm")
    (param $ap i32) (param $bp i32) (param $c i32)
    (param $M i32) (param $N i32) (param $K i32) (param $ldc i32) (param $acc i32) (param $tmp i32)
    (local $panelsM i32) (local $panelsN i32) (local $p i32) (local $q i32)
    (local $a i32) (local $b i32) (local $bq i32) (local $k i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $y0 v128) (local $y1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $out i32) (local $ld i32) (local $rows i32) (local $cols i32) (local $i i32) (local $j i32)
    (local $src i32) (local $dst i32)
    (local.set $panelsM (i32.shr_u (i32.add (local.get $M) (i32.const 3)) (i32.const 2)))
    (local.set $panelsN (i32.shr_u (i32.add (local.get $N) (i32.const 7)) (i32.const 3)))
    (if (i32.eqz (local.get $K)) (then (return)))
    ;; for each B panel (8 columns) ...
    (local.set $q (i32.const 0))
    (loop $overN
      (local.set $bq (i32.add (local.get $bp) (i32.mul (local.get $q) (i32.shl (local.get $K) (i32.const 5)))))
      ;; ... for each A panel (4 rows): one 4×8 block of C
      (local.set $p (i32.const 0))
      (loop $overM
        (local.set $a (i32.add (local.get $ap) (i32.mul (local.get $p) (i32.shl (local.get $K) (i32.const 4)))))
        (local.set $b (local.get $bq))
        (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
        (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))
        (local.set $k (local.get $K))
        (loop $overK
          (local.set $y0 (v128.load offset=0 (local.get $b)))
          (local.set $y1 (v128.load offset=16 (local.get $b)))
          (local.set $x0 (v128.load32_splat offset=0 (local.get $a)))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x0) (local.get $y0))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x0) (local.get $y1))))
          (local.set $x1 (v128.load32_splat offset=4 (local.get $a)))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x1) (local.get $y0))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x1) (local.get $y1))))
          (local.set $x2 (v128.load32_splat offset=8 (local.get $a)))
          (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x2) (local.get $y0))))
          (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x2) (local.get $y1))))
          (local.set $x3 (v128.load32_splat offset=12 (local.get $a)))
          (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x3) (local.get $y0))))
          (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x3) (local.get $y1))))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (local.set $b (i32.add (local.get $b) (i32.const 32)))
          (br_if $overK (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
        ;; Where the block lies inside C, store it directly (adding to C when acc); else into
        ;; the scratch, whose valid part is then copied element by element.
        (local.set $rows (i32.sub (local.get $M) (i32.shl (local.get $p) (i32.const 2))))
        (local.set $cols (i32.sub (local.get $N) (i32.shl (local.get $q) (i32.const 3))))
        (if (i32.and (i32.ge_s (local.get $rows) (i32.const 4)) (i32.ge_s (local.get $cols) (i32.const 8)))
          (then
            (local.set $out (i32.add (local.get $c)
              (i32.shl (i32.add (i32.mul (i32.shl (local.get $p) (i32.const 2)) (local.get $ldc)) (i32.shl (local.get $q) (i32.const 3))) (i32.const 2))))
            (local.set $ld (i32.shl (local.get $ldc) (i32.const 2)))
            (if (local.get $acc)
              (then
                (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $out))))
                (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $out))))
                (local.set $c10 (f32x4.add (local.get $c10) (v128.load offset=0 (i32.add (local.get $out) (local.get $ld)))))
                (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (i32.add (local.get $out) (local.get $ld)))))
                (local.set $c20 (f32x4.add (local.get $c20) (v128.load offset=0 (i32.add (local.get $out) (i32.shl (local.get $ld) (i32.const 1))))))
                (local.set $c21 (f32x4.add (local.get $c21) (v128.load offset=16 (i32.add (local.get $out) (i32.shl (local.get $ld) (i32.const 1))))))
                (local.set $c30 (f32x4.add (local.get $c30) (v128.load offset=0 (i32.add (local.get $out) (i32.mul (local.get $ld) (i32.const 3))))))
                (local.set $c31 (f32x4.add (local.get $c31) (v128.load offset=16 (i32.add (local.get $out) (i32.mul (local.get $ld) (i32.const 3))))))))
            (v128.store offset=0 (local.get $out) (local.get $c00))
            (v128.store offset=16 (local.get $out) (local.get $c01))
            (local.set $out (i32.add (local.get $out) (local.get $ld)))
            (v128.store offset=0 (local.get $out) (local.get $c10))
            (v128.store offset=16 (local.get $out) (local.get $c11))
            (local.set $out (i32.add (local.get $out) (local.get $ld)))
            (v128.store offset=0 (local.get $out) (local.get $c20))
            (v128.store offset=16 (local.get $out) (local.get $c21))
            (local.set $out (i32.add (local.get $out) (local.get $ld)))
            (v128.store offset=0 (local.get $out) (local.get $c30))
            (v128.store offset=16 (local.get $out) (local.get $c31)))
          (else
            (v128.store offset=0 (local.get $tmp) (local.get $c00))
            (v128.store offset=16 (local.get $tmp) (local.get $c01))
            (v128.store offset=32 (local.get $tmp) (local.get $c10))
            (v128.store offset=48 (local.get $tmp) (local.get $c11))
            (v128.store offset=64 (local.get $tmp) (local.get $c20))
            (v128.store offset=80 (local.get $tmp) (local.get $c21))
            (v128.store offset=96 (local.get $tmp) (local.get $c30))
            (v128.store offset=112 (local.get $tmp) (local.get $c31))
            (if (i32.gt_s (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
            (if (i32.gt_s (local.get $cols) (i32.const 8)) (then (local.set $cols (i32.const 8))))
            (local.set $i (i32.const 0))
            (loop $rowsLoop
              (local.set $j (i32.const 0))
              (loop $colsLoop
                (local.set $src (i32.add (local.get $tmp) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 3)) (local.get $j)) (i32.const 2))))
                (local.set $dst (i32.add (local.get $c) (i32.shl
                  (i32.add (i32.mul (i32.add (i32.shl (local.get $p) (i32.const 2)) (local.get $i)) (local.get $ldc))
                           (i32.add (i32.shl (local.get $q) (i32.const 3)) (local.get $j))) (i32.const 2))))
                (f32.store (local.get $dst)
                  (if (result f32) (local.get $acc)
                    (then (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src))))
                    (else (f32.load (local.get $src)))))
                (br_if $colsLoop (i32.lt_s (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $cols))))
              (br_if $rowsLoop (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $rows))))))
        (br_if $overM (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $panelsM))))
      (br_if $overN (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 1))) (local.get $panelsN)))))

  ;; gemm_rows: the same product for a few rows of A (a dense layer at batch 1–4), with B read
  ;; where it lies: row-major, b + (k·brs + n)·4, no packing. Packing B would read and write
  ;; every weight once more than the product reads it, and with at most 4 rows of A there is no
  ;; reuse to pay that back. For each row m: C[m, :] = 0, then for each k the row
  ;; C[m, :] += A(m, k) · B[k, :], four columns per step (one load32_splat of A, one load of B,
  ;; a multiply and an add into C, which for N ≤ a few thousand stays in L1), the last 0–3
  ;; columns one at a time. A(m, k) is at a + (m·ars + k·acs)·4; C row-major with ldc.
  ;; Work per output: K multiply-adds, in order k = 0, 1, … (the packed path sums K in slices).
  (func (export "gemm_rows")
    (param $a i32) (param $ars i32) (param $acs i32) (param $b i32) (param $brs i32) (param $c i32) (param $ldc i32)
    (param $M i32) (param $N i32) (param $K i32)
    (local $m i32) (local $k i32) (local $n i32) (local $n4 i32) (local $x v128) (local $xs f32)
    (local $crow i32) (local $brow i32) (local $at i32)
    (local.set $n4 (i32.and (local.get $N) (i32.const -4)))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $m) (local.get $M)))
      (local.set $crow (i32.add (local.get $c) (i32.shl (i32.mul (local.get $m) (local.get $ldc)) (i32.const 2))))
      (memory.fill (local.get $crow) (i32.const 0) (i32.shl (local.get $N) (i32.const 2)))
      (local.set $k (i32.const 0))
      (block $kDone (loop $overK
        (br_if $kDone (i32.ge_u (local.get $k) (local.get $K)))
        (local.set $at (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $m) (local.get $ars)) (i32.mul (local.get $k) (local.get $acs))) (i32.const 2))))
        (local.set $x (v128.load32_splat (local.get $at)))
        (local.set $xs (f32.load (local.get $at)))
        (local.set $brow (i32.add (local.get $b) (i32.shl (i32.mul (local.get $k) (local.get $brs)) (i32.const 2))))
        (local.set $n (i32.const 0))
        (block $vecEnd (loop $vec
          (br_if $vecEnd (i32.ge_u (local.get $n) (local.get $n4)))
          (v128.store (i32.add (local.get $crow) (i32.shl (local.get $n) (i32.const 2)))
            (f32x4.add (v128.load (i32.add (local.get $crow) (i32.shl (local.get $n) (i32.const 2))))
                       (f32x4.mul (local.get $x) (v128.load (i32.add (local.get $brow) (i32.shl (local.get $n) (i32.const 2)))))))
          (local.set $n (i32.add (local.get $n) (i32.const 4)))
          (br $vec)))
        (block $tailEnd (loop $tail
          (br_if $tailEnd (i32.ge_u (local.get $n) (local.get $N)))
          (f32.store (i32.add (local.get $crow) (i32.shl (local.get $n) (i32.const 2)))
            (f32.add (f32.load (i32.add (local.get $crow) (i32.shl (local.get $n) (i32.const 2))))
                     (f32.mul (local.get $xs) (f32.load (i32.add (local.get $brow) (i32.shl (local.get $n) (i32.const 2)))))))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (br $tail)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $overK)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $rows))))

  ;; gemm_rows_t: as gemm_rows, for B given transposed (B(k, n) at b + (n·bcs + k)·4, a dense
  ;; layer's weight stored [outputs, inputs]) and A's rows contiguous (A(m, k) at a + (m·ars + k)·4):
  ;; each output is the dot product of two contiguous rows, eight k at a time in two f32x4
  ;; accumulators (two chains hide the add's latency), then four, then one at a time; the lanes
  ;; are summed at the end. Each weight is read once, in order.
  (func (export "gemm_rows_t")
    (param $a i32) (param $ars i32) (param $b i32) (param $bcs i32) (param $c i32) (param $ldc i32)
    (param $M i32) (param $N i32) (param $K i32)
    (local $m i32) (local $n i32) (local $k i32) (local $arow i32) (local $brow i32)
    (local $s0 v128) (local $s1 v128) (local $s f32)
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $m) (local.get $M)))
      (local.set $arow (i32.add (local.get $a) (i32.shl (i32.mul (local.get $m) (local.get $ars)) (i32.const 2))))
      (local.set $n (i32.const 0))
      (block $colsDone (loop $cols
        (br_if $colsDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $brow (i32.add (local.get $b) (i32.shl (i32.mul (local.get $n) (local.get $bcs)) (i32.const 2))))
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (block $e8 (loop $by8
          (br_if $e8 (i32.gt_u (i32.add (local.get $k) (i32.const 8)) (local.get $K)))
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul
            (v128.load (i32.add (local.get $arow) (i32.shl (local.get $k) (i32.const 2))))
            (v128.load (i32.add (local.get $brow) (i32.shl (local.get $k) (i32.const 2)))))))
          (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul
            (v128.load offset=16 (i32.add (local.get $arow) (i32.shl (local.get $k) (i32.const 2))))
            (v128.load offset=16 (i32.add (local.get $brow) (i32.shl (local.get $k) (i32.const 2)))))))
          (local.set $k (i32.add (local.get $k) (i32.const 8)))
          (br $by8)))
        (if (i32.le_u (i32.add (local.get $k) (i32.const 4)) (local.get $K)) (then
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul
            (v128.load (i32.add (local.get $arow) (i32.shl (local.get $k) (i32.const 2))))
            (v128.load (i32.add (local.get $brow) (i32.shl (local.get $k) (i32.const 2)))))))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))))
        (local.set $s0 (f32x4.add (local.get $s0) (local.get $s1)))
        (local.set $s (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $s0)) (f32x4.extract_lane 1 (local.get $s0)))
          (f32.add (f32x4.extract_lane 2 (local.get $s0)) (f32x4.extract_lane 3 (local.get $s0)))))
        (block $e1 (loop $by1
          (br_if $e1 (i32.ge_u (local.get $k) (local.get $K)))
          (local.set $s (f32.add (local.get $s) (f32.mul
            (f32.load (i32.add (local.get $arow) (i32.shl (local.get $k) (i32.const 2))))
            (f32.load (i32.add (local.get $brow) (i32.shl (local.get $k) (i32.const 2)))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $by1)))
        (f32.store (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $m) (local.get $ldc)) (local.get $n)) (i32.const 2))) (local.get $s))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $cols)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $rows))))
)
