;; conv.wat: what turns a convolution over a whole batch into one product for gemm.wat.
;;
;; With x[N,C,H,W] and filters w[K,C,R,S], the convolution is Y = Wm · col, where Wm is the
;; K × (C·R·S) filter matrix and col the (C·R·S) × (N·OH·OW) matrix of patches (im2col):
;;
;;   col[(c·R + r)·S + s][(n·OH + oh)·OW + ow] = x[n, c, oh·stride + r − padTop, ow·stride + s − padLeft]
;;
;; (0 outside the image). col is never written out whole: pack_b_conv gathers just the slice
;; that gemm.wat is about to read (≤ 256 rows × 256 columns) straight into its 8-column panels
;; (an implicit im2col, as the WGSL kernels do). All of the batch is one product, so the filter
;; matrix is packed once per layer per pass, not once per image.
;;
;; The three passes of a layer (src/backend/wasm/drivers.ts):
;;   forward          Y = Wm · col                      pack_b_conv, then store_conv
;;   backward-input   dx = (flipped, transposed W) ⋆ dy  the forward pass again, on dy (stride 1)
;;   backward-filter  dW = dY · colᵀ                    pack_a_dy and pack_bt_conv
;;
;; The geometry is ten i32 at `g`: C, H, W, R, S, OH, OW, padTop, padLeft, stride.
;; Columns of col are numbered across the batch: column j is image j / (OH·OW), pixel j % (OH·OW).
;; `tmp` is 96 bytes of scratch for the decoded columns or rows of one panel.
;;
;; Cost: one gathered read and one write per element of the slice; the product then does
;; K (filters) multiply-adds with each element, so packing is about 1/K of the work.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; The value of col at row (c, r, s) for a column decoded as (image base address, ih0, iw0).
  (func $tap (param $base i32) (param $ih i32) (param $iw i32) (param $c i32) (param $H i32) (param $W i32) (result f32)
    (if (result f32) (i32.and (i32.lt_u (local.get $ih) (local.get $H)) (i32.lt_u (local.get $iw) (local.get $W)))
      (then (f32.load (i32.add (local.get $base)
        (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $c) (local.get $H)) (local.get $ih)) (local.get $W)) (local.get $iw)) (i32.const 2)))))
      (else (f32.const 0))))

  ;; B = col[k0 .. k0+kc, j0 .. j0+nc] into 8-column panels: out[(q·kc + kk)·8 + jj].
  (func (export "pack_b_conv")
    (param $x i32) (param $g i32) (param $j0 i32) (param $nc i32) (param $k0 i32) (param $kc i32) (param $out i32) (param $tmp i32)
    (local $C i32) (local $H i32) (local $W i32) (local $R i32) (local $S i32) (local $OW i32) (local $P i32)
    (local $pt i32) (local $pl i32) (local $st i32) (local $imgBytes i32)
    (local $q i32) (local $panels i32) (local $jj i32) (local $j i32) (local $pix i32) (local $t i32)
    (local $c i32) (local $r i32) (local $s i32) (local $kk i32) (local $dst i32)
    (local $fast i32) (local $base0 i32) (local $ih0 i32) (local $iw0 i32) (local $ih i32) (local $iw i32) (local $addr i32)
    (local.set $C (i32.load offset=0 (local.get $g)))
    (local.set $H (i32.load offset=4 (local.get $g)))
    (local.set $W (i32.load offset=8 (local.get $g)))
    (local.set $R (i32.load offset=12 (local.get $g)))
    (local.set $S (i32.load offset=16 (local.get $g)))
    (local.set $OW (i32.load offset=24 (local.get $g)))
    (local.set $P (i32.mul (i32.load offset=20 (local.get $g)) (local.get $OW)))
    (local.set $pt (i32.load offset=28 (local.get $g)))
    (local.set $pl (i32.load offset=32 (local.get $g)))
    (local.set $st (i32.load offset=36 (local.get $g)))
    (local.set $imgBytes (i32.shl (i32.mul (local.get $C) (i32.mul (local.get $H) (local.get $W))) (i32.const 2)))
    (local.set $panels (i32.shr_u (i32.add (local.get $nc) (i32.const 7)) (i32.const 3)))
    (if (i32.or (i32.eqz (local.get $kc)) (i32.eqz (local.get $nc))) (then (return)))
    (loop $panelsLoop
      ;; Decode the panel's 8 columns once: tmp[jj] = (base, oh·stride − padTop, ow·stride − padLeft).
      ;; A column past the slice gets a row far outside the image, so every tap reads 0.
      (local.set $jj (i32.const 0))
      (loop $decode
        (local.set $t (i32.add (local.get $tmp) (i32.mul (local.get $jj) (i32.const 12))))
        (local.set $j (i32.add (i32.add (local.get $j0) (i32.shl (local.get $q) (i32.const 3))) (local.get $jj)))
        (if (i32.lt_u (i32.add (i32.shl (local.get $q) (i32.const 3)) (local.get $jj)) (local.get $nc))
          (then
            (local.set $pix (i32.rem_u (local.get $j) (local.get $P)))
            (i32.store offset=0 (local.get $t) (i32.add (local.get $x) (i32.mul (i32.div_u (local.get $j) (local.get $P)) (local.get $imgBytes))))
            (i32.store offset=4 (local.get $t) (i32.sub (i32.mul (i32.div_u (local.get $pix) (local.get $OW)) (local.get $st)) (local.get $pt)))
            (i32.store offset=8 (local.get $t) (i32.sub (i32.mul (i32.rem_u (local.get $pix) (local.get $OW)) (local.get $st)) (local.get $pl))))
          (else
            (i32.store offset=0 (local.get $t) (local.get $x))
            (i32.store offset=4 (local.get $t) (i32.const -268435456))
            (i32.store offset=8 (local.get $t) (i32.const 0))))
        (br_if $decode (i32.lt_u (local.tee $jj (i32.add (local.get $jj) (i32.const 1))) (i32.const 8))))
      ;; Fast panel: 8 neighbouring pixels of one image row at stride 1, so each tap reads 8
      ;; consecutive floats of x (two vector loads) unless the row or its ends leave the image.
      (local.set $base0 (i32.load offset=0 (local.get $tmp)))
      (local.set $ih0 (i32.load offset=4 (local.get $tmp)))
      (local.set $iw0 (i32.load offset=8 (local.get $tmp)))
      (local.set $fast (i32.and (i32.and
        (i32.eq (local.get $base0) (i32.load offset=84 (local.get $tmp)))
        (i32.eq (local.get $ih0) (i32.load offset=88 (local.get $tmp))))
        (i32.eq (i32.add (local.get $iw0) (i32.const 7)) (i32.load offset=92 (local.get $tmp)))))
      (local.set $c (i32.div_u (local.get $k0) (i32.mul (local.get $R) (local.get $S))))
      (local.set $r (i32.div_u (i32.rem_u (local.get $k0) (i32.mul (local.get $R) (local.get $S))) (local.get $S)))
      (local.set $s (i32.rem_u (local.get $k0) (local.get $S)))
      (local.set $dst (i32.add (local.get $out) (i32.shl (i32.mul (local.get $q) (local.get $kc)) (i32.const 5))))
      (local.set $kk (local.get $kc))
      (loop $rows
        (local.set $ih (i32.add (local.get $ih0) (local.get $r)))
        (local.set $iw (i32.add (local.get $iw0) (local.get $s)))
        (if (i32.and (local.get $fast) (i32.and (i32.lt_u (local.get $ih) (local.get $H))
              (i32.and (i32.ge_s (local.get $iw) (i32.const 0)) (i32.le_s (i32.add (local.get $iw) (i32.const 8)) (local.get $W)))))
          (then
            (local.set $addr (i32.add (local.get $base0)
              (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $c) (local.get $H)) (local.get $ih)) (local.get $W)) (local.get $iw)) (i32.const 2))))
            (v128.store offset=0 (local.get $dst) (v128.load offset=0 (local.get $addr)))
            (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $addr))))
          (else
            (local.set $jj (i32.const 0))
            (loop $gather
              (local.set $t (i32.add (local.get $tmp) (i32.mul (local.get $jj) (i32.const 12))))
              (f32.store (i32.add (local.get $dst) (i32.shl (local.get $jj) (i32.const 2)))
                (call $tap (i32.load offset=0 (local.get $t))
                  (i32.add (i32.load offset=4 (local.get $t)) (local.get $r))
                  (i32.add (i32.load offset=8 (local.get $t)) (local.get $s))
                  (local.get $c) (local.get $H) (local.get $W)))
              (br_if $gather (i32.lt_u (local.tee $jj (i32.add (local.get $jj) (i32.const 1))) (i32.const 8))))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        ;; next tap: s, then r, then c
        (if (i32.eq (local.tee $s (i32.add (local.get $s) (i32.const 1))) (local.get $S)) (then
          (local.set $s (i32.const 0))
          (if (i32.eq (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $R)) (then
            (local.set $r (i32.const 0))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))))))
        (br_if $rows (local.tee $kk (i32.sub (local.get $kk) (i32.const 1)))))
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
  ;; (taps) in 8-column panels: out[(q·kc + kk)·8 + jj] = col[8q + jj][j0 + kk].
  (func (export "pack_bt_conv")
    (param $x i32) (param $g i32) (param $j0 i32) (param $kc i32) (param $out i32) (param $tmp i32)
    (local $C i32) (local $H i32) (local $W i32) (local $R i32) (local $S i32) (local $OW i32) (local $P i32)
    (local $pt i32) (local $pl i32) (local $st i32) (local $imgBytes i32) (local $CRS i32)
    (local $q i32) (local $panels i32) (local $jj i32) (local $tap i32) (local $t i32)
    (local $kk i32) (local $n i32) (local $pix i32) (local $base i32) (local $ih0 i32) (local $iw0 i32) (local $dst i32)
    (local.set $C (i32.load offset=0 (local.get $g)))
    (local.set $H (i32.load offset=4 (local.get $g)))
    (local.set $W (i32.load offset=8 (local.get $g)))
    (local.set $R (i32.load offset=12 (local.get $g)))
    (local.set $S (i32.load offset=16 (local.get $g)))
    (local.set $OW (i32.load offset=24 (local.get $g)))
    (local.set $P (i32.mul (i32.load offset=20 (local.get $g)) (local.get $OW)))
    (local.set $pt (i32.load offset=28 (local.get $g)))
    (local.set $pl (i32.load offset=32 (local.get $g)))
    (local.set $st (i32.load offset=36 (local.get $g)))
    (local.set $imgBytes (i32.shl (i32.mul (local.get $C) (i32.mul (local.get $H) (local.get $W))) (i32.const 2)))
    (local.set $CRS (i32.mul (local.get $C) (i32.mul (local.get $R) (local.get $S))))
    (local.set $panels (i32.shr_u (i32.add (local.get $CRS) (i32.const 7)) (i32.const 3)))
    (if (i32.eqz (local.get $kc)) (then (return)))
    (loop $panelsLoop
      ;; Decode the panel's 8 taps once: tmp[jj] = (c, r, s); a tap past C·R·S gets a row
      ;; offset far outside the image, so it reads 0.
      (local.set $jj (i32.const 0))
      (loop $decode
        (local.set $t (i32.add (local.get $tmp) (i32.mul (local.get $jj) (i32.const 12))))
        (local.set $tap (i32.add (i32.shl (local.get $q) (i32.const 3)) (local.get $jj)))
        (if (i32.lt_u (local.get $tap) (local.get $CRS))
          (then
            (i32.store offset=0 (local.get $t) (i32.div_u (local.get $tap) (i32.mul (local.get $R) (local.get $S))))
            (i32.store offset=4 (local.get $t) (i32.div_u (i32.rem_u (local.get $tap) (i32.mul (local.get $R) (local.get $S))) (local.get $S)))
            (i32.store offset=8 (local.get $t) (i32.rem_u (local.get $tap) (local.get $S))))
          (else
            (i32.store offset=0 (local.get $t) (i32.const 0))
            (i32.store offset=4 (local.get $t) (i32.const -268435456))
            (i32.store offset=8 (local.get $t) (i32.const 0))))
        (br_if $decode (i32.lt_u (local.tee $jj (i32.add (local.get $jj) (i32.const 1))) (i32.const 8))))
      (local.set $n (i32.div_u (local.get $j0) (local.get $P)))
      (local.set $pix (i32.rem_u (local.get $j0) (local.get $P)))
      (local.set $dst (i32.add (local.get $out) (i32.shl (i32.mul (local.get $q) (local.get $kc)) (i32.const 5))))
      (local.set $kk (local.get $kc))
      (loop $rows
        (local.set $base (i32.add (local.get $x) (i32.mul (local.get $n) (local.get $imgBytes))))
        (local.set $ih0 (i32.sub (i32.mul (i32.div_u (local.get $pix) (local.get $OW)) (local.get $st)) (local.get $pt)))
        (local.set $iw0 (i32.sub (i32.mul (i32.rem_u (local.get $pix) (local.get $OW)) (local.get $st)) (local.get $pl)))
        (local.set $jj (i32.const 0))
        (loop $gather
          (local.set $t (i32.add (local.get $tmp) (i32.mul (local.get $jj) (i32.const 12))))
          (f32.store (i32.add (local.get $dst) (i32.shl (local.get $jj) (i32.const 2)))
            (call $tap (local.get $base)
              (i32.add (local.get $ih0) (i32.load offset=4 (local.get $t)))
              (i32.add (local.get $iw0) (i32.load offset=8 (local.get $t)))
              (i32.load offset=0 (local.get $t)) (local.get $H) (local.get $W)))
          (br_if $gather (i32.lt_u (local.tee $jj (i32.add (local.get $jj) (i32.const 1))) (i32.const 8))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (if (i32.eq (local.tee $pix (i32.add (local.get $pix) (i32.const 1))) (local.get $P)) (then
          (local.set $pix (i32.const 0))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))))
        (br_if $rows (local.tee $kk (i32.sub (local.get $kk) (i32.const 1)))))
      (br_if $panelsLoop (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 1))) (local.get $panels)))))

  ;; The store step of the forward pass: the product block cs[K × nc] (row-major, columns
  ;; j0 .. j0+nc of the batch) goes to y[N, K, P] in NCHW order, each value finished as
  ;; relu(v + bias[k]) · scale[k] + shift[k] (pointers 0 = absent), as finish_cols does per column.
  (func (export "store_conv")
    (param $cs i32) (param $y i32) (param $K i32) (param $P i32) (param $j0 i32) (param $nc i32)
    (param $bias i32) (param $scale i32) (param $shift i32) (param $relu i32)
    (local $k i32) (local $jj i32) (local $n i32) (local $pix i32) (local $v f32)
    (local $b f32) (local $sc f32) (local $sh f32) (local $from i32) (local $rowBytes i32)
    (if (i32.or (i32.eqz (local.get $K)) (i32.eqz (local.get $nc))) (then (return)))
    (loop $filters
      (local.set $b (if (result f32) (local.get $bias) (then (f32.load (i32.add (local.get $bias) (i32.shl (local.get $k) (i32.const 2))))) (else (f32.const 0))))
      (local.set $sc (if (result f32) (local.get $scale) (then (f32.load (i32.add (local.get $scale) (i32.shl (local.get $k) (i32.const 2))))) (else (f32.const 1))))
      (local.set $sh (if (result f32) (local.get $shift) (then (f32.load (i32.add (local.get $shift) (i32.shl (local.get $k) (i32.const 2))))) (else (f32.const 0))))
      (local.set $from (i32.add (local.get $cs) (i32.shl (i32.mul (local.get $k) (local.get $nc)) (i32.const 2))))
      (local.set $n (i32.div_u (local.get $j0) (local.get $P)))
      (local.set $pix (i32.rem_u (local.get $j0) (local.get $P)))
      (local.set $jj (local.get $nc))
      (loop $cols
        (local.set $v (f32.add (f32.load (local.get $from)) (local.get $b)))
        (if (local.get $relu) (then (local.set $v (select (local.get $v) (f32.const 0) (f32.gt (local.get $v) (f32.const 0))))))
        (f32.store (i32.add (local.get $y)
            (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $K)) (local.get $k)) (local.get $P)) (local.get $pix)) (i32.const 2)))
          (f32.add (f32.mul (local.get $v) (local.get $sc)) (local.get $sh)))
        (local.set $from (i32.add (local.get $from) (i32.const 4)))
        (if (i32.eq (local.tee $pix (i32.add (local.get $pix) (i32.const 1))) (local.get $P)) (then
          (local.set $pix (i32.const 0))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))))
        (br_if $cols (local.tee $jj (i32.sub (local.get $jj) (i32.const 1)))))
      (br_if $filters (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K)))))
)
