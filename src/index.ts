/**
 * `fer-webgpu` in browsers and bundlers: the seven-emotion model. Load a model file, find the
 * faces in a picture or video frame, and get each face's class probabilities; on WebGPU where
 * the browser has it, else on the CPU path. (The engine underneath: `fer-webgpu/engine`.)
 *
 *   import { loadModel, decodeImageFile } from 'fer-webgpu';
 *   const model = await loadModel('/model.safetensors', { cascade: '/cascade.xml' });
 *   const { faces } = await model.predict(await decodeImageFile(file));
 */
export * from './web/index.ts';
