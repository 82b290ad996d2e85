// The webcam loop: the video is drawn on every animation frame; a new detection + prediction
// starts only when the previous one has finished and EVERY frames have passed, and until it
// finishes the last result stays on screen. With `predict` running off the page's thread (see
// worker-predictor.ts), a slow model lowers the result rate, never the video's frame rate.
import type { Prediction } from './index.ts';

const EVERY = 5;

export interface WebcamHooks {
  /** Called on every frame with the latest finished result (null before the first). */
  draw(video: HTMLVideoElement, last: Prediction | null): void;
  result(p: Prediction, fps: number): void;
  error(e: Error): void;
}

export class Webcam {
  #video = document.createElement('video');
  #stream: MediaStream | null = null;
  #raf = 0;
  #busy = false;
  #sinceLast = 0;
  #last: Prediction | null = null;
  #frameTimes: number[] = [];

  constructor(
    readonly predict: (video: HTMLVideoElement) => Promise<Prediction>,
    readonly hooks: WebcamHooks,
  ) {
    this.#video.muted = true;
    this.#video.playsInline = true;
  }

  get running(): boolean {
    return this.#stream !== null;
  }

  get video(): HTMLVideoElement {
    return this.#video;
  }

  async start(): Promise<void> {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser gives pages no camera (navigator.mediaDevices is missing; pages need https or localhost)');
    this.#stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
    this.#video.srcObject = this.#stream;
    await this.#video.play();
    this.#last = null;
    this.#sinceLast = EVERY;
    this.#raf = requestAnimationFrame(this.#tick);
  }

  stop(): void {
    cancelAnimationFrame(this.#raf);
    for (const t of this.#stream?.getTracks() ?? []) t.stop();
    this.#stream = null;
    this.#video.srcObject = null;
  }

  #tick = (now: number): void => {
    if (!this.#stream) return;
    this.#frameTimes.push(now);
    while (this.#frameTimes.length > 0 && now - this.#frameTimes[0] > 1000) this.#frameTimes.shift();
    if (this.#video.videoWidth > 0) {
      this.hooks.draw(this.#video, this.#last);
      this.#sinceLast++;
      if (!this.#busy && this.#sinceLast >= EVERY) this.#infer();
    }
    this.#raf = requestAnimationFrame(this.#tick);
  };

  #infer(): void {
    this.#busy = true;
    this.#sinceLast = 0;
    this
      .predict(this.#video)
      .then((p) => {
        if (!this.#stream) return;
        this.#last = p;
        this.hooks.result(p, this.#frameTimes.length);
      })
      .catch((e: Error) => {
        this.stop();
        this.hooks.error(e);
      })
      .finally(() => {
        this.#busy = false;
      });
  }
}
