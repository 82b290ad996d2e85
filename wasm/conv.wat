;; conv.wat: what turns a convolution over a whole batch into one product for gemm.wat.
;;
;; With x[N,C,H,W] and filters w[K,C,R,S], the convolution is Y = Wm · col, where Wm is the
;; K × (C·R·S) filter matrix and col the (C·R·S) × (N·OH·OW) matrix of patches (im2col):
;;
;;   col[(c·R + r)·S + s][(n·OH + oh)·OW + ow] = x[n, c, oh·stride + r − padTop, ow·stride + s − padLeft]
;;
;; (0 outside the image). col is never written out whole: the packers gather just the slice
;; that gemm.wat is about to read (≤ 256 × 256) straight into its panels (an implicit im2col,
;; as the WGSL kernels do). All of the batch is one product, so the filter matrix is packed
;; once per layer per pass, not once per image.
;;
;; First, pad_copy writes x with its zero border into xp[N, C, Hp, Wp], so no read needs a
;; bounds check. Then an entry of col is one load at the sum of two offsets:
;;
;;   col[tap][column] = xp[colBase(n, oh, ow) + tapOff(c, r, s)]
;;   colBase = ((n·C·Hp + oh·stride)·Wp + ow·stride)·4,   tapOff = ((c·Hp + r)·Wp + s)·4  (bytes)
;;
;; and 8 neighbouring columns of one output row at stride 1 are 8 consecutive floats: two vector
;; loads. The three passes of a layer (src/backend/wasm/gemm-jobs.ts):
;;   forward          Y = Wm · col                       pack_b_conv, then store_conv
;;   backward-input   dx = (flipped, transposed W) ⋆ dy   the forward pass again, on dy (stride 1)
;;   backward-filter  dW = dY · colᵀ                     pack_a_dy and pack_bt_conv
;;
;; The geometry is eight i32 at `g`: C, Hp, Wp, R, S, OH, OW, stride.
;; Columns of col are numbered across the batch: column j is image j / (OH·OW), pixel j % (OH·OW).
;;
;; Cost: one read and one write per element of a packed slice; the product then does K (filters)
;; multiply-adds with each element, so packing is about 1/K of the work.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; xp = x with a zero border: `planes` planes of H×W copied into Hp×Wp at (padTop, padLeft).
  (func (export "pad_copy") (param $x i32) (param $xp i32) (param $planes i32) (param $H i32) (param $W i32)
    (param $Hp i32) (param $Wp i32) (param $padTop i32) (param $padLeft i32)
    (local $p i32) (local $h i32) (local $from i32) (local $to i32)
    (memory.fill (local.get $xp) (i32.const 0)
      (i32.shl (i32.mul (local.get $planes) (i32.mul (local.get $Hp) (local.get $Wp))) (i32.const 2)))
    (local.set $from (local.get $x))
    (block $end (loop $planesLoop
      (br_if $end (i32.ge_u (local.get $p) (local.get $planes)))
      (local.set $to (i32.add (local.get $xp) (i32.shl
        (i32.add (i32.mul (i32.add (i32.mul (local.get $p) (local.get $Hp)) (local.get $padTop)) (local.get $Wp)) (local.get $padLeft)) (i32.const 2))))
      (local.set $h (i32.const 0))
      (block $rowsEnd (loop $rows
        (br_if $rowsEnd (i32.ge_u (local.get $h) (local.get $H)))
        (memory.copy (local.get $to) (local.get $from) (i32.shl (local.get $W) (i32.const 2)))
        (local.set $from (i32.add (local.get $from) (i32.shl (local.get $W) (i32.const 2))))
        (local.set $to (i32.add (local.get $to) (i32.shl (local.get $Wp) (i32.const 2))))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $rows)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $planesLoop))))

  ;; colBase of column j (bytes from xp): image j / P, pixel j % P.
  (func $colBase (param $j i32) (param $P i32) (param $OW i32) (param $st i32) (param $imgBytes i32) (param $Wp i32) (result i32)
    (local $pix i32)
    (local.set $pix (i32.rem_u (local.get $j) (local.get $P)))
    (i32.add (i32.mul (i32.div_u (local.get $j) (local.get $P)) (local.get $imgBytes))
      (i32.shl (i32.add (i32.mul (i32.mul (i32.div_u (local.get $pix) (local.get $OW)) (local.get $st)) (local.get $Wp))
                        (i32.mul (i32.rem_u (local.get $pix) (local.get $OW)) (local.get $st))) (i32.const 2))))

  ;; tapOff of tap k = (c·R + r)·S + s (bytes).
  (func $tapOff (param $k i32) (param $R i32) (param $S i32) (param $Hp i32) (param $Wp i32) (result i32)
    (local $RS i32) (local $rem i32)
    (local.set $RS (i32.mul (local.get $R) (local.get $S)))
    (local.set $rem (i32.rem_u (local.get $k) (local.get $RS)))
    (i32.shl (i32.add (i32.mul (i32.add (i32.mul (i32.div_u (local.get $k) (local.get $RS)) (local.get $Hp))
                                        (i32.div_u (local.get $rem) (local.get $S))) (local.get $Wp))
                      (i32.rem_u (local.get $rem) (local.get $S))) (i32.const 2)))

  ;; B = col[k0 .. k0+kc, j0 .. j0+nc] into 8-column panels: out[(q·kc + kk)·8 + jj]. Columns past
  ;; the slice read xp's first value: their products are never stored.
  (func (export "pack_b_conv")
    (param $xp i32) (param $g i32) (param $j0 i32) (param $nc i32) (param $k0 i32) (param $kc i32) (param $out i32)
    (local $C i32) (local $Hp i32) (local $Wp i32) (local $R i32) (local $S i32) (local $OW i32) (local $P i32) (local $st i32) (local $imgBytes i32)
    (local $q i32) (local $panels i32) (local $dst i32) (local $kk i32) (local $t i32) (local $last i32)
    (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32) (local $b4 i32) (local $b5 i32) (local $b6 i32) (local $b7 i32)
    (local $r i32) (local $s i32) (local $tOff i32)
    (local.set $C (i32.load offset=0 (local.get $g)))
    (local.set $Hp (i32.load offset=4 (local.get $g)))
    (local.set $Wp (i32.load offset=8 (local.get $g)))
    (local.set $R (i32.load offset=12 (local.get $g)))
    (local.set $S (i32.load offset=16 (local.get $g)))
    (local.set $OW (i32.load offset=24 (local.get $g)))
    (local.set $P (i32.mul (i32.load offset=20 (local.get $g)) (local.get $OW)))
    (local.set $st (i32.load offset=28 (local.get $g)))
    (local.set $imgBytes (i32.shl (i32.mul (local.get $C) (i32.mul (local.get $Hp) (local.get $Wp))) (i32.const 2)))
    (local.set $panels (i32.shr_u (i32.add (local.get $nc) (i32.const 7)) (i32.const 3)))
    (local.set $last (i32.add (local.get $j0) (i32.sub (local.get $nc) (i32.const 1))))
    (if (i32.or (i32.eqz (local.get $kc)) (i32.eqz (local.get $nc))) (then (return)))
    (loop $panelsLoop
      ;; the panel's 8 column bases, clamped to the slice's last column
      (local.set $t (i32.add (local.get $j0) (i32.shl (local.get $q) (i32.const 3))))
      (local.set $b0 (call $colBase (local.get $t) (local.get $P) (local.get $OW) (local.get $st) (local.get $imgBytes) (local.get $Wp)))
      (local.set $b1 (call $colBase (select (i32.add (local.get $t) (i32.const 1)) (local.get $last) (i32.le_u (i32.add (local.get $t) (i32.const 1)) (local.get $last))) (local.get $P) (local.get $OW) (local.get $st) (local.get $imgBytes) (local.get $Wp)))
      (local.set $b2 (call $colBase (select (i32.add (local.get $t) (i32.const 2)) (local.get $last) (i32.le_u (i32.add (local.get $t) (i32.const 2)) (local.get $last))) (local.get $P) (local.get $OW) (local.get $st) (local.get $imgBytes) (local.get $Wp)))
      (local.set $b3 (call $colBase (select (i32.add (local.get $t) (i32.const 3)) (local.get $last) (i32.le_u (i32.add (local.get $t) (i32.const 3)) (local.get $last))) (local.get $P) (local.get $OW) (local.get $st) (local.get $imgBytes) (local.get $Wp)))
      (local.set $b4 (call $colBase (select (i32.add (local.get $t) (i32.const 4)) (local.get $last) (i32.le_u (i32.add (local.get $t) (i32.const 4)) (local.get $last))) (local.get $P) (local.get $OW) (local.get $st) (local.get $imgBytes) (local.get $Wp)))
      (local.set $b5 (call $colBase (select (i32.add (local.get $t) (i32.const 5)) (local.get $last) (i32.le_u (i32.add (local.get $t) (i32.const 5)) (local.get $last))) (local.get $P) (local.get $OW) (local.get $st) (local.get $imgBytes) (local.get $Wp)))
      (local.set $b6 (call $colBase (select (i32.add (local.get $t) (i32.const 6)) (local.get $last) (i32.le_u (i32.add (local.get $t) (i32.const 6)) (local.get $last))) (local.get $P) (local.get $OW) (local.get $st) (local.get $imgBytes) (local.get $Wp)))
      (local.set $b7 (call $colBase (select (i32.add (local.get $t) (i32.const 7)) (local.get $last) (i32.le_u (i32.add (local.get $t) (i32.const 7)) (local.get $last))) (local.get $P) (local.get $OW) (local.get $st) (local.get $imgBytes) (local.get $Wp)))
      (local.set $b0 (i32.add (local.get $b0) (local.get $xp))) (local.set $b1 (i32.add (local.get $b1) (local.get $xp)))
      (local.set $b2 (i32.add (local.get $b2) (local.get $xp))) (local.set $b3 (i32.add (local.get $b3) (local.get $xp)))
      (local.set $b4 (i32.add (local.get $b4) (local.get $xp))) (local.set $b5 (i32.add (local.get $b5) (local.get $xp)))
      (local.set $b6 (i32.add (local.get $b6) (local.get $xp))) (local.set $b7 (i32.add (local.get $b7) (local.get $xp)))
      (local.set $dst (i32.add (local.get $out) (i32.shl (i32.mul (local.get $q) (local.get $kc)) (i32.const 5))))
      ;; the first tap (c, r, s) of the slice; the loops then step tOff tap by tap
      (local.set $tOff (call $tapOff (local.get $k0) (local.get $R) (local.get $S) (local.get $Hp) (local.get $Wp)))
      (local.set $r (i32.div_u (i32.rem_u (local.get $k0) (i32.mul (local.get $R) (local.get $S))) (local.get $S)))
      (local.set $s (i32.rem_u (local.get $k0) (local.get $S)))
      (local.set $kk (local.get $kc))
      ;; contiguous when each base is 4 bytes past the one before (one row, stride 1, no clamping)
      (if (i32.and (i32.and (i32.and (i32.eq (local.get $b1) (i32.add (local.get $b0) (i32.const 4)))
                                     (i32.eq (local.get $b2) (i32.add (local.get $b1) (i32.const 4))))
                            (i32.and (i32.eq (local.get $b3) (i32.add (local.get $b2) (i32.const 4)))
                                     (i32.eq (local.get $b4) (i32.add (local.get $b3) (i32.const 4)))))
                   (i32.and (i32.and (i32.eq (local.get $b5) (i32.add (local.get $b4) (i32.const 4)))
                                     (i32.eq (local.get $b6) (i32.add (local.get $b5) (i32.const 4))))
                            (i32.eq (local.get $b7) (i32.add (local.get $b6) (i32.const 4)))))
        (then
          ;; 8 neighbours in one row: two vector copies per tap
          (loop $fast
            (local.set $t (i32.add (local.get $b0) (local.get $tOff)))
            (v128.store offset=0 (local.get $dst) (v128.load offset=0 (local.get $t)))
            (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $t)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            ;; next tap: s, then r, then c
            (local.set $tOff (i32.add (local.get $tOff) (i32.const 4)))
            (if (i32.eq (local.tee $s (i32.add (local.get $s) (i32.const 1))) (local.get $S)) (then
              (local.set $s (i32.const 0))
              (local.set $tOff (i32.add (local.get $tOff) (i32.shl (i32.sub (local.get $Wp) (local.get $S)) (i32.const 2))))
              (if (i32.eq (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $R)) (then
                (local.set $r (i32.const 0))
                (local.set $tOff (i32.add (local.get $tOff) (i32.shl (i32.mul (i32.sub (local.get $Hp) (local.get $R)) (local.get $Wp)) (i32.const 2))))))))
            (br_if $fast (local.tee $kk (i32.sub (local.get $kk) (i32.const 1))))))
        (else
          (loop $gather
            (local.set $t (local.get $tOff))
            (f32.store offset=0 (local.get $dst) (f32.load (i32.add (local.get $b0) (local.get $t))))
            (f32.store offset=4 (local.get $dst) (f32.load (i32.add (local.get $b1) (local.get $t))))
            (f32.store offset=8 (local.get $dst) (f32.load (i32.add (local.get $b2) (local.get $t))))
            (f32.store offset=12 (local.get $dst) (f32.load (i32.add (local.get $b3) (local.get $t))))
            (f32.store offset=16 (local.get $dst) (f32.load (i32.add (local.get $b4) (local.get $t))))
            (f32.store offset=20 (local.get $dst) (f32.load (i32.add (local.get $b5) (local.get $t))))
            (f32.store offset=24 (local.get $dst) (f32.load (i32.add (local.get $b6) (local.get $t))))
            (f32.store offset=28 (local.get $dst) (f32.load (i32.add (local.get $b7) (local.get $t))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            (local.set $tOff (i32.add (local.get $tOff) (i32.const 4)))
            (if (i32.eq (local.tee $s (i32.add (local.get $s) (i32.const 1))) (local.get $S)) (then
              (local.set $s (i32.const 0))
              (local.set $tOff (i32.add (local.get $tOff) (i32.shl (i32.sub (local.get $Wp) (local.get $S)) (i32.const 2))))
              (if (i32.eq (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $R)) (then
                (local.set $r (i32.const 0))
                (local.set $tOff (i32.add (local.get $tOff) (i32.shl (i32.mul (i32.sub (local.get $Hp) (local.get $R)) (local.get $Wp)) (i32.const 2))))))))
            (br_if $gather (local.tee $kk (i32.sub (local.get $kk) (i32.const 1)))))))
      (br_if $panelsLoop (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 1))) (local.get $panels)))))

  ;; Backward-filter's A: dY as a K × (N·OH·OW) matrix, columns j0 .. j0+kc, in 4-row panels:
  ;; out[(p·kc + kk)·4 + i] = dy[n, 4p + i, pixel] for column j0 + kk = (n, pixel).
  (func (export "pack_a_dy")
    (param $dy i32) (param $K i32) (param $P i32) (param $j0 i32) (param $kc i32) (param $out i32)
    (local $p i32) (local $panels i32) (local $i i32) (local $f i32) (local $kk i32) (local $n i32) (local $pix i32) (local $to i32)
    (local.set $panels (i32.shr_u (i32.add (local.get $K) (i32.const 3)) (i32.const 2)))
    (if (i32.eqz (local.get $kc)) (then (return)))
    (loop $panelsLoop
      (local.set $i (i32.const 0))
      (loop $rowsLoop
        (local.set $f (i32.add (i32.shl (local.get $p) (i32.const 2)) (local.get $i)))
        (local.set $to (i32.add (local.get $out)
          (i32.shl (i32.add (i32.shl (i32.mul (local.get $p) (local.get $kc)) (i32.const 2)) (local.get $i)) (i32.const 2))))
        (local.set $n (i32.div_u (local.get $j0) (local.get $P)))
        (local.set $pix (i32.rem_u (local.get $j0) (local.get $P)))
        (local.set $kk (local.get $kc))
        (loop $cols
          (f32.store (local.get $to)
            (if (result f32) (i32.lt_u (local.get $f) (local.get $K))
              (then (f32.load (i32.add (local.get $dy)
                (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $K)) (local.get $f)) (local.get $P)) (local.get $pix)) (i32.const 2)))))
              (else (f32.const 0))))
          (local.set $to (i32.add (local.get $to) (i32.const 16)))
          (if (i32.eq (local.tee $pix (i32.add (local.get $pix) (i32.const 1))) (local.get $P)) (then
            (local.set $pix (i32.const 0))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))))
          (br_if $cols (local.tee $kk (i32.sub (local.get $kk) (i32.const 1)))))
        (br_if $rowsLoop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 4))))
      (br_if $panelsLoop (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $panels)))))

  ;; Backward-filter's B: colᵀ, rows = columns j0 .. j0+kc of col (pixels), all C·R·S columns
  ;; (taps) in 8-column panels: out[(q·kc + kk)·8 + jj] = col[8q + jj][j0 + kk]. Taps past C·R·S
  ;; read at offset 0 of the pixel: their products are never stored.
  (func (export "pack_bt_conv")
    (param $xp i32) (param $g i32) (param $j0 i32) (param $kc i32) (param $out i32)
    (local $C i32) (local $Hp i32) (local $Wp i32) (local $R i32) (local $S i32) (local $OW i32) (local $P i32) (local $st i32) (local $imgBytes i32)
    (local $CRS i32) (local $q i32) (local $panels i32) (local $kk i32) (local $j i32) (local $base i32) (local $dst i32) (local $t i32) (local $ow i32) (local $step i32)
    (local $t0 i32) (local $t1 i32) (local $t2 i32) (local $t3 i32) (local $t4 i32) (local $t5 i32) (local $t6 i32) (local $t7 i32)
    (local.set $C (i32.load offset=0 (local.get $g)))
    (local.set $Hp (i32.load offset=4 (local.get $g)))
    (local.set $Wp (i32.load offset=8 (local.get $g)))
    (local.set $R (i32.load offset=12 (local.get $g)))
    (local.set $S (i32.load offset=16 (local.get $g)))
    (local.set $OW (i32.load offset=24 (local.get $g)))
    (local.set $P (i32.mul (i32.load offset=20 (local.get $g)) (local.get $OW)))
    (local.set $st (i32.load offset=28 (local.get $g)))
    (local.set $imgBytes (i32.shl (i32.mul (local.get $C) (i32.mul (local.get $Hp) (local.get $Wp))) (i32.const 2)))
    (local.set $CRS (i32.mul (local.get $C) (i32.mul (local.get $R) (local.get $S))))
    (local.set $panels (i32.shr_u (i32.add (local.get $CRS) (i32.const 7)) (i32.const 3)))
    (if (i32.eqz (local.get $kc)) (then (return)))
    (loop $panelsLoop
      (local.set $t (i32.shl (local.get $q) (i32.const 3)))
      (local.set $t0 (call $tapOffOr0 (local.get $t) (local.get $CRS) (local.get $R) (local.get $S) (local.get $Hp) (local.get $Wp)))
      (local.set $t1 (call $tapOffOr0 (i32.add (local.get $t) (i32.const 1)) (local.get $CRS) (local.get $R) (local.get $S) (local.get $Hp) (local.get $Wp)))
      (local.set $t2 (call $tapOffOr0 (i32.add (local.get $t) (i32.const 2)) (local.get $CRS) (local.get $R) (local.get $S) (local.get $Hp) (local.get $Wp)))
      (local.set $t3 (call $tapOffOr0 (i32.add (local.get $t) (i32.const 3)) (local.get $CRS) (local.get $R) (local.get $S) (local.get $Hp) (local.get $Wp)))
      (local.set $t4 (call $tapOffOr0 (i32.add (local.get $t) (i32.const 4)) (local.get $CRS) (local.get $R) (local.get $S) (local.get $Hp) (local.get $Wp)))
      (local.set $t5 (call $tapOffOr0 (i32.add (local.get $t) (i32.const 5)) (local.get $CRS) (local.get $R) (local.get $S) (local.get $Hp) (local.get $Wp)))
      (local.set $t6 (call $tapOffOr0 (i32.add (local.get $t) (i32.const 6)) (local.get $CRS) (local.get $R) (local.get $S) (local.get $Hp) (local.get $Wp)))
      (local.set $t7 (call $tapOffOr0 (i32.add (local.get $t) (i32.const 7)) (local.get $CRS) (local.get $R) (local.get $S) (local.get $Hp) (local.get $Wp)))
      (local.set $dst (i32.add (local.get $out) (i32.shl (i32.mul (local.get $q) (local.get $kc)) (i32.const 5))))
      (local.set $j (local.get $j0))
      (local.set $kk (local.get $kc))
      (local.set $step (i32.shl (local.get $st) (i32.const 2)))
      (local.set $ow (local.get $OW))
      (loop $rows
        ;; the pixel's base: one step right within an output row, decoded afresh at a row's start
        (if (i32.ge_u (local.get $ow) (local.get $OW))
          (then
            (local.set $base (i32.add (local.get $xp) (call $colBase (local.get $j) (local.get $P) (local.get $OW) (local.get $st) (local.get $imgBytes) (local.get $Wp))))
            (local.set $ow (i32.rem_u (i32.rem_u (local.get $j) (local.get $P)) (local.get $OW))))
          (else (local.set $base (i32.add (local.get $base) (local.get $step)))))
        (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
        (f32.store offset=0 (local.get $dst) (f32.load (i32.add (local.get $base) (local.get $t0))))
        (f32.store offset=4 (local.get $dst) (f32.load (i32.add (local.get $base) (local.get $t1))))
        (f32.store offset=8 (local.get $dst) (f32.load (i32.add (local.get $base) (local.get $t2))))
        (f32.store offset=12 (local.get $dst) (f32.load (i32.add (local.get $base) (local.get $t3))))
        (f32.store offset=16 (local.get $dst) (f32.load (i32.add (local.get $base) (local.get $t4))))
        (f32.store offset=20 (local.get $dst) (f32.load (i32.add (local.get $base) (local.get $t5))))
        (f32.store offset=24 (local.get $dst) (f32.load (i32.add (local.get $base) (local.get $t6))))
        (f32.store offset=28 (local.get $dst) (f32.load (i32.add (local.get $base) (local.get $t7))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $rows (local.tee $kk (i32.sub (local.get $kk) (i32.const 1)))))
      (br_if $panelsLoop (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 1))) (local.get $panels)))))

  (func $tapOffOr0 (param $k i32) (param $CRS i32) (param $R i32) (param $S i32) (param $Hp i32) (param $Wp i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $k) (local.get $CRS))
      (then (call $tapOff (local.get $k) (local.get $R) (local.get $S) (local.get $Hp) (local.get $Wp)))
      (else (i32.const 0))))

  ;; The store step of the forward pass: the product block cs[K × nc] (row-major, columns
  ;; j0 .. j0+nc of the batch) goes to y[N, K, P] in NCHW order, each value finished as
  ;; relu(v + bias[k]) · scale[k] + shift[k] (pointers 0 = absent), as finish_cols does per column.
  ;; A row of the block is one or more runs of pixels that are contiguous in y (a run ends where an
  ;; image does); each run goes four values at a time, then one at a time for its last 0–3.
  ;; relu is pmax(0, v): 0 < v ? v : 0, so NaN gives 0 as the scalar select does. (A scalar loop
  ;; with the NCHW index per value took 12% of the seed's largest convolution; this takes ~1%.)
  (func (export "store_conv")
    (param $cs i32) (param $y i32) (param $K i32) (param $P i32) (param $j0 i32) (param $nc i32)
    (param $bias i32) (param $scale i32) (param $shift i32) (param $relu i32)
    (local $k i32) (local $jj i32) (local $n i32) (local $pix i32) (local $v f32)
    (local $b f32) (local $sc f32) (local $sh f32) (local $from i32) (local $to i32) (local $run i32) (local $i i32)
    (local $bv v128) (local $scv v128) (local $shv v128) (local $vv v128)
    (if (i32.or (i32.eqz (local.get $K)) (i32.eqz (local.get $nc))) (then (return)))
    (loop $filters
      (local.set $b (if (result f32) (local.get $bias) (then (f32.load (i32.add (local.get $bias) (i32.shl (local.get $k) (i32.const 2))))) (else (f32.const 0))))
      (local.set $sc (if (result f32) (local.get $scale) (then (f32.load (i32.add (local.get $scale) (i32.shl (local.get $k) (i32.const 2))))) (else (f32.const 1))))
      (local.set $sh (if (result f32) (local.get $shift) (then (f32.load (i32.add (local.get $shift) (i32.shl (local.get $k) (i32.const 2))))) (else (f32.const 0))))
      (local.set $bv (f32x4.splat (local.get $b)))
      (local.set $scv (f32x4.splat (local.get $sc)))
      (local.set $shv (f32x4.splat (local.get $sh)))
      (local.set $from (i32.add (local.get $cs) (i32.shl (i32.mul (local.get $k) (local.get $nc)) (i32.const 2))))
      (local.set $n (i32.div_u (local.get $j0) (local.get $P)))
      (local.set $pix (i32.rem_u (local.get $j0) (local.get $P)))
      (local.set $jj (local.get $nc))
      (loop $runs
        ;; this run: pixels pix .. pix+run of image n, filter k
        (local.set $run (i32.sub (local.get $P) (local.get $pix)))
        (if (i32.gt_u (local.get $run) (local.get $jj)) (then (local.set $run (local.get $jj))))
        (local.set $to (i32.add (local.get $y)
          (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $K)) (local.get $k)) (local.get $P)) (local.get $pix)) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $vecEnd (loop $vec
          (br_if $vecEnd (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $run)))
          (local.set $vv (f32x4.add (v128.load (local.get $from)) (local.get $bv)))
          (if (local.get $relu) (then (local.set $vv (f32x4.pmax (v128.const f32x4 0 0 0 0) (local.get $vv)))))
          (v128.store (local.get $to) (f32x4.add (f32x4.mul (local.get $vv) (local.get $scv)) (local.get $shv)))
          (local.set $from (i32.add (local.get $from) (i32.const 16)))
          (local.set $to (i32.add (local.get $to) (i32.const 16)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $vec)))
        (block $tailEnd (loop $tail
          (br_if $tailEnd (i32.ge_s (local.get $i) (local.get $run)))
          (local.set $v (f32.add (f32.load (local.get $from)) (local.get $b)))
          (if (local.get $relu) (then (local.set $v (select (local.get $v) (f32.const 0) (f32.gt (local.get $v) (f32.const 0))))))
          (f32.store (local.get $to) (f32.add (f32.mul (local.get $v) (local.get $sc)) (local.get $sh)))
          (local.set $from (i32.add (local.get $from) (i32.const 4)))
          (local.set $to (i32.add (local.get $to) (i32.const 4)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $tail)))
        (local.set $pix (i32.const 0))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br_if $runs (local.tee $jj (i32.sub (local.get $jj) (local.get $run)))))
      (br_if $filters (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K)))))
)
