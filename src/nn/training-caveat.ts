/**
 * Whether a model file says it learned from FER2013; anything else (the synthetic faces, or
 * no training record) must not be presented as an emotion recognizer.
 */
export function fer2013Caveat(metadata: Record<string, string>, path: string): string | null {
  const data = metadata.data ?? '';
  if (/fer2013/i.test(data)) return null;
  if (data.startsWith('synthetic')) {
    return `warning: ${path} was trained on synthetic drawn faces, not FER2013: its answers are a pipeline check, not emotion recognition`;
  }
  return `warning: ${path} does not say it was trained on FER2013 (data: ${data || 'unknown'}): treat its answers with care`;
}
