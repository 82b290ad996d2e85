;; peak.wat: the WebAssembly SIMD multiply-add peak of one thread, for bench/cpu.ts.
;; Twelve independent f32x4 chains acc = acc·a + b (mul then add: WebAssembly SIMD has no fused
;; multiply-add outside relaxed-SIMD), so the processor can overlap their latencies: 12 chains ×
;; 4 lanes × 2 FLOPs = 96 FLOPs per iteration, in 14 of the 16 vector registers V8 uses on
;; x86-64. What gemm.wat's micro-kernel could reach at best.
(module
  (func (export "fma") (param $iters i32) (result f32)
    (local $a v128) (local $b v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local $c8 v128) (local $c9 v128) (local $c10 v128) (local $c11 v128)
    (local.set $a (f32x4.splat (f32.const 0.999)))
    (local.set $b (f32x4.splat (f32.const 0.001)))
    (local.set $c1 (f32x4.splat (f32.const 1))) (local.set $c2 (f32x4.splat (f32.const 2)))
    (local.set $c3 (f32x4.splat (f32.const 3))) (local.set $c4 (f32x4.splat (f32.const 4)))
    (local.set $c5 (f32x4.splat (f32.const 5))) (local.set $c6 (f32x4.splat (f32.const 6)))
    (local.set $c7 (f32x4.splat (f32.const 7))) (local.set $c8 (f32x4.splat (f32.const 8)))
    (local.set $c9 (f32x4.splat (f32.const 9))) (local.set $c10 (f32x4.splat (f32.const 10))) (local.set $c11 (f32x4.splat (f32.const 11)))
    (loop $l
      (local.set $c0 (f32x4.add (f32x4.mul (local.get $c0) (local.get $a)) (local.get $b)))
      (local.set $c1 (f32x4.add (f32x4.mul (local.get $c1) (local.get $a)) (local.get $b)))
      (local.set $c2 (f32x4.add (f32x4.mul (local.get $c2) (local.get $a)) (local.get $b)))
      (local.set $c3 (f32x4.add (f32x4.mul (local.get $c3) (local.get $a)) (local.get $b)))
      (local.set $c4 (f32x4.add (f32x4.mul (local.get $c4) (local.get $a)) (local.get $b)))
      (local.set $c5 (f32x4.add (f32x4.mul (local.get $c5) (local.get $a)) (local.get $b)))
      (local.set $c6 (f32x4.add (f32x4.mul (local.get $c6) (local.get $a)) (local.get $b)))
      (local.set $c7 (f32x4.add (f32x4.mul (local.get $c7) (local.get $a)) (local.get $b)))
      (local.set $c8 (f32x4.add (f32x4.mul (local.get $c8) (local.get $a)) (local.get $b)))
      (local.set $c9 (f32x4.add (f32x4.mul (local.get $c9) (local.get $a)) (local.get $b)))
      (local.set $c10 (f32x4.add (f32x4.mul (local.get $c10) (local.get $a)) (local.get $b)))
      (local.set $c11 (f32x4.add (f32x4.mul (local.get $c11) (local.get $a)) (local.get $b)))
      (br_if $l (local.tee $iters (i32.sub (local.get $iters) (i32.const 1)))))
    ;; fold the chains into one number so that none of them is dead code
    (local.set $c0 (f32x4.add (f32x4.add (f32x4.add (local.get $c0) (local.get $c1)) (f32x4.add (local.get $c2) (local.get $c3)))
                              (f32x4.add (f32x4.add (local.get $c4) (local.get $c5)) (f32x4.add (local.get $c6) (local.get $c7)))))
    (local.set $c0 (f32x4.add (local.get $c0) (f32x4.add (f32x4.add (local.get $c8) (local.get $c9)) (f32x4.add (local.get $c10) (local.get $c11)))))
    (f32x4.extract_lane 0 (local.get $c0)))
)
