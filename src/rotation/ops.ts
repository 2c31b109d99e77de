import { Errors, Messages } from '../errors.js';
import type { Tx, SecretRecord } from '../storage/types.js';
import { type ServiceContext, requireLiveSecret } from '../secrets/context.js';
import { AWSCURRENT } from '../secrets/labels.js';
import type { RotationEngine } from './engine.js';
import { type FunctionSource, resolveFunction } from './registry.js';
import { parseRotationRules, type RotationRules } from './schedule.js';

type Input = Record<string, any>;

/** AWS's answer to RotateSecret while a rotation is still running. */
export const PREVIOUS_ROTATION_INCOMPLETE = "A previous rotation isn't complete. That rotation will be reattempted.";

/** RotateSecret and CancelRotateSecret over the engine, plus the hooks that keep runs honest. */
export function rotationService(ctx: ServiceContext, engine: RotationEngine, sources: FunctionSource[]) {
  return {
    /** RotateSecret: stores the function and schedule, then rotates now (or only tests, with RotateImmediately false). */
    async rotate(input: Input): Promise<Record<string, unknown>> {
      const token = input.ClientRequestToken as string | undefined;
      if (token === undefined) throw Errors.invalidRequest(Messages.tokenRequired);
      const rules = input.RotationRules as RotationRules | undefined;
      if (rules) parseRotationRules(rules); // bad rules are refused before anything changes
      const immediately = input.RotateImmediately !== false;
      const runId = await ctx.store.transaction(async (tx) => {
        const s = await requireLiveSecret(ctx, tx, input.SecretId);
        const functionArn: string | null = input.RotationLambdaARN ?? s.rotationLambdaArn;
        if (!functionArn) throw Errors.invalidRequest('No Lambda rotation function ARN is associated with this secret.');
        await resolveFunction(sources, tx, functionArn);
        if (await tx.rotation.activeRun(s.id)) throw Errors.invalidRequest(PREVIOUS_ROTATION_INCOMPLETE);
        if (!(await tx.secrets.versionByStage(s.id, AWSCURRENT))?.sealed) {
          throw Errors.invalidRequest('The secret has no AWSCURRENT value to rotate.');
        }
        // The rules as given; DescribeSecret shows them normalised as AWS does.
        const stored = rules ? JSON.stringify(rules) : s.rotationRules;
        const now = ctx.now();
        const updated: SecretRecord = { ...s, rotationEnabled: true, rotationLambdaArn: functionArn, rotationRules: stored };
        await tx.secrets.updateSecret(s.id, {
          rotationEnabled: true, rotationLambdaArn: functionArn, rotationRules: stored, lastChangedMs: now,
          ...engine.schedule(updated, now),
        });
        return engine.startRun(tx, updated, functionArn, token, immediately ? 'rotate' : 'test');
      });
      engine.kick(runId);
      const s = await ctx.store.read((tx) => requireLiveSecret(ctx, tx, input.SecretId));
      return { ARN: s.arn, Name: s.name, VersionId: token };
    },

    /** CancelRotateSecret: turns scheduled rotation off and abandons a rotation in progress. */
    async cancel(input: Input): Promise<Record<string, unknown>> {
      return ctx.store.transaction(async (tx) => {
        const s = await requireLiveSecret(ctx, tx, input.SecretId);
        const run = await engine.abandon(tx, s, 'rotation cancelled (CancelRotateSecret)');
        // A secret never configured for rotation keeps RotationEnabled absent.
        if (s.rotationEnabled !== null) {
          await tx.secrets.updateSecret(s.id, { rotationEnabled: false, nextRotationMs: null, rotationDueMs: null, lastChangedMs: ctx.now() });
        }
        const out: Record<string, unknown> = { ARN: s.arn, Name: s.name };
        if (run) out.VersionId = run.token;
        return out;
      });
    },

    /**
     * A manual change that moves AWSCURRENT to a version other than the run's abandons the run; and
     * for a secret that rotates on a schedule, it counts as a rotation for the next date, as on AWS.
     */
    async labelsChanged(tx: Tx, s: SecretRecord, before: Map<string, string>, after: Map<string, string>, versionId: string) {
      const moved = after.get(AWSCURRENT) !== before.get(AWSCURRENT);
      if (!moved) return;
      const run = await tx.rotation.activeRun(s.id);
      if (run && run.token !== versionId) await engine.abandon(tx, s, `a manual change made version ${versionId} AWSCURRENT`);
      if (s.rotationEnabled && (!run || run.token !== versionId)) {
        await tx.secrets.updateSecret(s.id, engine.schedule(s, ctx.now()));
      }
    },
  };
}
