import { Errors } from '../errors.js';

/** The staging labels AWS gives meaning to. */
export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';

/** A secret's labels: label -> the one version that carries it. */
export type LabelMap = Map<string, string>;

/** Builds a label map from versions and their stages. */
export function labelMapOf(versions: { versionId: string; stages: string[] }[]): LabelMap {
  const m: LabelMap = new Map();
  for (const v of versions) for (const s of v.stages) m.set(s, v.versionId);
  return m;
}

/** The labels a version carries, sorted as AWS returns them. */
export function stagesOf(labels: LabelMap, versionId: string): string[] {
  const out: string[] = [];
  for (const [label, v] of labels) if (v === versionId) out.push(label);
  return out.sort();
}

/**
 * Attaches labels to a version, moving each from wherever it was. When AWSCURRENT moves away from a
 * version, AWSPREVIOUS moves to that version. With `newVersion` (PutSecretValue and friends), a
 * stale AWSPENDING left on the version that stops being current is removed, as AWS does.
 */
export function attach(labels: LabelMap, versionId: string, stages: string[], newVersion = false): LabelMap {
  const next = new Map(labels);
  const wanted = new Set(stages);
  for (const stage of wanted) {
    const from = next.get(stage);
    next.set(stage, versionId);
    if (stage === AWSCURRENT && from !== undefined && from !== versionId) {
      next.set(AWSPREVIOUS, from);
      if (newVersion && !wanted.has(AWSPENDING) && next.get(AWSPENDING) === from) next.delete(AWSPENDING);
    }
  }
  return next;
}

/**
 * UpdateSecretVersionStage: moves (or removes) one label. `moveTo` absent removes the label from
 * `removeFrom`. A label attached elsewhere may only be moved when `removeFrom` names its version.
 */
export function moveStage(
  labels: LabelMap,
  stage: string,
  moveTo: string | undefined,
  removeFrom: string | undefined,
  versionExists: (id: string) => boolean,
): LabelMap {
  if (moveTo !== undefined && !versionExists(moveTo)) {
    throw Errors.invalidParameter(`The version ${moveTo} doesn't exist.`);
  }
  const holder = labels.get(stage);
  if (removeFrom !== undefined) {
    if (!versionExists(removeFrom)) throw Errors.invalidParameter(`The version ${removeFrom} doesn't exist.`);
    if (holder !== removeFrom) {
      throw Errors.invalidParameter(
        `The staging label ${stage} is not attached to version ${removeFrom}, so you can't remove it.`,
      );
    }
  } else if (moveTo !== undefined && holder !== undefined && holder !== moveTo) {
    throw Errors.invalidParameter(
      `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder}, so you must explicitly reference that version in RemoveFromVersionId.`,
    );
  }
  if (moveTo === undefined) {
    if (removeFrom === undefined) {
      throw Errors.invalidParameter('You must specify either MoveToVersionId or RemoveFromVersionId.');
    }
    if (stage === AWSCURRENT) {
      throw Errors.invalidParameter(
        'You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.',
      );
    }
    const next = new Map(labels);
    next.delete(stage);
    return next;
  }
  return attach(labels, moveTo, [stage]);
}

/**
 * Versions to purge: unlabelled versions beyond the newest `keep` versions, and only those older
 * than `minAgeMs` (AWS keeps 100 versions and everything created in the last 24 hours).
 */
export function versionsToPurge(
  versions: { versionId: string; createdMs: number }[], // oldest first
  labels: LabelMap,
  nowMs: number,
  keep = 100,
  minAgeMs = 24 * 3600 * 1000,
): string[] {
  const labelled = new Set(labels.values());
  const excess = versions.length - keep;
  if (excess <= 0) return [];
  const out: string[] = [];
  for (const v of versions) {
    if (out.length >= excess) break;
    if (!labelled.has(v.versionId) && nowMs - v.createdMs > minAgeMs) out.push(v.versionId);
  }
  return out;
}
