// Loading the model for a page, with what the page must show about it: the backend and why, the
// caveat for a model not trained on FER2013, and a clear message when loading fails.
import { loadModel, type BackendWish, type FerModel } from './index.ts';

/** What the badge calls each backend, and its tooltip. */
const BADGE: { readonly [B in FerModel['backend']]: { name: string; title: string } } = {
  webgpu: { name: 'WebGPU', title: 'the WGSL kernels run on this adapter' },
  wasm: { name: 'WebAssembly', title: 'the WebAssembly SIMD kernels (wasm/*.wat) run on this thread' },
  cpu: { name: 'CPU', title: 'the TypeScript reference kernels run on this thread' },
};

/** ?backend=cpu|wasm|webgpu|auto in the page's URL picks the backend; default auto. */
function wishFromUrl(): BackendWish {
  const b = new URLSearchParams(location.search).get('backend');
  return b === 'cpu' || b === 'wasm' || b === 'webgpu' ? b : 'auto';
}

function el(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page is missing #${id}`);
  return e;
}

/** Loads model.safetensors beside the page, filling #backend and #caveat; null (and a message) on failure. */
export async function loadPageModel(): Promise<FerModel | null> {
  const badge = el('backend');
  // ?backend=… follows the user from the demo to the explorer and back.
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) a.setAttribute('href', `${a.getAttribute('href')!.split('?')[0]}${location.search}`);
  const caveat = el('caveat');
  try {
    const model = await loadModel('model.safetensors', { backend: wishFromUrl(), cascade: 'cascade.xml' });
    badge.dataset.backend = model.backend;
    badge.className = `backend ${model.backend}`;
    badge.replaceChildren(
      Object.assign(document.createElement('strong'), { textContent: BADGE[model.backend].name }),
      document.createTextNode(model.backend === 'webgpu' ? ` on ${model.backendReason}` : ` — ${model.backendReason}`),
    );
    badge.title = BADGE[model.backend].title;
    if (model.warning) {
      caveat.hidden = false;
      caveat.replaceChildren(Object.assign(document.createElement('strong'), { textContent: 'Not a FER2013 model. ' }), document.createTextNode(model.warning));
    }
    return model;
  } catch (e) {
    badge.className = 'backend failed';
    badge.dataset.backend = 'none';
    badge.textContent = `Could not load the model: ${(e as Error).message}`;
    return null;
  }
}
