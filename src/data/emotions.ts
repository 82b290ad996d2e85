import { FerError } from '../backend/errors.ts';

/** The seven FER2013 classes; the index is the label in the CSV's `emotion` column. */
export const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;

export type Emotion = (typeof EMOTIONS)[number];

export const NUM_CLASSES = EMOTIONS.length;

/** Names for people: reports, the web page, confusion-matrix headers. */
export const EMOTION_DISPLAY_NAMES: Readonly<Record<Emotion, string>> = {
  angry: 'Angry',
  disgust: 'Disgust',
  fear: 'Fear',
  happy: 'Happy',
  sad: 'Sad',
  surprise: 'Surprise',
  neutral: 'Neutral',
};

export function displayName(label: number): string {
  const e = EMOTIONS[label];
  if (e === undefined) throw new FerError(`displayName: label ${label} is not a class index, want an integer 0–${NUM_CLASSES - 1}`);
  return EMOTION_DISPLAY_NAMES[e];
}

/** The label of a class name, case-insensitively ("Happy" and "happy" are 3); -1 for anything else. */
export function emotionIndex(name: string): number {
  return (EMOTIONS as readonly string[]).indexOf(name.trim().toLowerCase());
}
