;; pack.wat: copies plain matrices into the panel layout gemm.wat reads, and finishes a
;; product's outputs (bias, ReLU, folded batch norm) in one pass.
;;
;; A matrix is read through strides, so one function serves a matrix stored as it is and one
;; stored transposed: element (i, k) of A is at src + (i·rs + k·cs)·4. Packing costs one read
;; and one write per element, against K multiply-adds per output of the product, so it pays
;; for itself whenever K and the other side are more than a few dozen.
;;
;;   pack_a: panels of 4 rows,    out[(p·K + k)·4 + i] = A(4p + i, k)   (0 past the last row)
;;   pack_b: panels of 8 columns, out[(q·K + k)·8 + j] = B(k, 8q + j)   (0 past the last column)
;;
;; finish_cols: C[m, n] = relu(C[m, n] + bias[n]) · scale[n] + shift[n] for a row-major M×N
;; block, each step optional (pointer 0 = absent; `relu` 0 or 1): the epilogue of matmul, the
;; same arithmetic as src/ops/epilogue.ts's finishRef (ReLU turns NaN into 0 there too).
(module
  (import "env" "memory" (memory 1 65536 shared))

  (func (export "pack_a")
    (param $src i32) (param $M i32) (param $K i32) (param $rs i32) (param $cs i32) (param $out i32)
    (local $p i32) (local $panels i32) (local $i i32) (local $m i32) (local $k i32)
    (local $from i32) (local $to i32) (local $step i32)
    (local.set $panels (i32.shr_u (i32.add (local.get $M) (i32.const 3)) (i32.const 2)))
    (local.set $step (i32.shl (local.get $cs) (i32.const 2)))
    (if (i32.eqz (local.get $K)) (then (return)))
    (loop $panelsLoop
      (local.set $i (i32.const 0))
      (loop $rowsLoop
        (local.set $m (i32.add (i32.shl (local.get $p) (i32.const 2)) (local.get $i)))
        (local.set $to (i32.add (local.get $out)
          (i32.shl (i32.add (i32.shl (i32.mul (local.get $p) (local.get $K)) (i32.const 2)) (local.get $i)) (i32.const 2))))
        (local.set $k (local.get $K))
        (if (i32.lt_u (local.get $m) (local.get $M))
          (then
            (local.set $from (i32.add (local.get $src) (i32.shl (i32.mul (local.get $m) (local.get $rs)) (i32.const 2))))
            (loop $copy
              (f32.store (local.get $to) (f32.load (local.get $from)))
              (local.set $from (i32.add (local.get $from) (local.get $step)))
              (local.set $to (i32.add (local.get $to) (i32.const 16)))
              (br_if $copy (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))
          (else
            (loop $zero
              (f32.store (local.get $to) (f32.const 0))
              (local.set $to (i32.add (local.get $to) (i32.const 16)))
              (br_if $zero (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
        (br_if $rowsLoop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 4))))
      (br_if $panelsLoop (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $panels)))))

  (func (export "pack_b")
    (param $src i32) (param $K i32) (param $N i32) (param $rs i32) (param $cs i32) (param $out i32)
    (local $q i32) (local $panels i32) (local $j i32) (local $n i32) (local $k i32)
    (local $from i32) (local $to i32) (local $step i32)
    (local.set $panels (i32.shr_u (i32.add (local.get $N) (i32.const 7)) (i32.const 3)))
    (local.set $step (i32.shl (local.get $rs) (i32.const 2)))
    (if (i32.eqz (local.get $K)) (then (return)))
    (loop $panelsLoop
      (local.set $to (i32.add (local.get $out) (i32.shl (i32.mul (local.get $q) (local.get $K)) (i32.const 5))))
      (if (i32.and (i32.eq (local.get $cs) (i32.const 1))
                   (i32.le_u (i32.shl (i32.add (local.get $q) (i32.const 1)) (i32.const 3)) (local.get $N)))
        (then
          ;; B stored by rows and a whole panel inside it: 8 neighbours, two vector copies per k.
          (local.set $from (i32.add (local.get $src) (i32.shl (i32.shl (local.get $q) (i32.const 3)) (i32.const 2))))
          (local.set $k (local.get $K))
          (loop $rows
            (v128.store offset=0 (local.get $to) (v128.load offset=0 (local.get $from)))
            (v128.store offset=16 (local.get $to) (v128.load offset=16 (local.get $from)))
            (local.set $from (i32.add (local.get $from) (local.get $step)))
            (local.set $to (i32.add (local.get $to) (i32.const 32)))
            (br_if $rows (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))
        (else
          (local.set $j (i32.const 0))
          (loop $colsLoop
            (local.set $n (i32.add (i32.shl (local.get $q) (i32.const 3)) (local.get $j)))
            (local.set $to (i32.add (local.get $out)
              (i32.shl (i32.add (i32.shl (i32.mul (local.get $q) (local.get $K)) (i32.const 3)) (local.get $j)) (i32.const 2))))
            (local.set $k (local.get $K))
            (if (i32.lt_u (local.get $n) (local.get $N))
              (then
                (local.set $from (i32.add (local.get $src) (i32.shl (i32.mul (local.get $n) (local.get $cs)) (i32.const 2))))
                (loop $copy
                  (f32.store (local.get $to) (f32.load (local.get $from)))
                  (local.set $from (i32.add (local.get $from) (local.get $step)))
                  (local.set $to (i32.add (local.get $to) (i32.const 32)))
                  (br_if $copy (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))
              (else
                (loop $zero
                  (f32.store (local.get $to) (f32.const 0))
                  (local.set $to (i32.add (local.get $to) (i32.const 32)))
                  (br_if $zero (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
            (br_if $colsLoop (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (i32.const 8))))))
      (br_if $panelsLoop (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 1))) (local.get $panels)))))

  (func (export "finish_cols")
    (param $c i32) (param $M i32) (param $N i32) (param $bias i32) (param $scale i32) (param $shift i32) (param $relu i32)
    (local $m i32) (local $n i32) (local $v f32) (local $at i32)
    (if (i32.or (i32.eqz (local.get $M)) (i32.eqz (local.get $N))) (then (return)))
    (local.set $at (local.get $c))
    (loop $rows
      (local.set $n (i32.const 0))
      (loop $cols
        (local.set $v (f32.load (local.get $at)))
        (if (local.get $bias) (then
          (local.set $v (f32.add (local.get $v) (f32.load (i32.add (local.get $bias) (i32.shl (local.get $n) (i32.const 2))))))))
        (if (local.get $relu) (then
          (local.set $v (select (local.get $v) (f32.const 0) (f32.gt (local.get $v) (f32.const 0))))))
        (if (local.get $scale) (then
          (local.set $v (f32.mul (local.get $v) (f32.load (i32.add (local.get $scale) (i32.shl (local.get $n) (i32.const 2))))))))
        (if (local.get $shift) (then
          (local.set $v (f32.add (local.get $v) (f32.load (i32.add (local.get $shift) (i32.shl (local.get $n) (i32.const 2))))))))
        (f32.store (local.get $at) (local.get $v))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br_if $cols (i32.lt_u (local.tee $n (i32.add (local.get $n) (i32.const 1))) (local.get $N))))
      (br_if $rows (i32.lt_u (local.tee $m (i32.add (local.get $m) (i32.const 1))) (local.get $M)))))
)
