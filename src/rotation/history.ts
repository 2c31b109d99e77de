import type { EventRecord, SecretRecord, Tx } from '../storage/types.js';

/** One run as the history shows it: times in epoch seconds, errors already redacted. */
export interface RunHistory {
  RunId: number;
  Token: string;
  Kind: 'rotate' | 'test';
  State: string;
  NextStep?: string;
  FunctionArn: string;
  StartedDate: number;
  FinishedDate?: number;
  LastError?: string;
  Steps: { Step: string; Attempt: number; StartedDate: number; DurationMs: number; Outcome: string; Error?: string }[];
}

/** The rotation history of a secret, newest run first. */
export async function rotationHistory(tx: Tx, s: SecretRecord, limit = 20): Promise<RunHistory[]> {
  const runs = await tx.rotation.runsOf(s.id, limit);
  const out: RunHistory[] = [];
  for (const r of runs) {
    const steps = await tx.rotation.steps(r.id);
    const h: RunHistory = {
      RunId: r.id, Token: r.token, Kind: r.kind, State: r.state, FunctionArn: r.functionArn,
      StartedDate: r.startedMs / 1000,
      Steps: steps.map((st) => ({
        Step: st.step, Attempt: st.attempt, StartedDate: st.startedMs / 1000, DurationMs: st.durationMs, Outcome: st.outcome,
        ...(st.error ? { Error: st.error } : {}),
      })),
    };
    if (r.state === 'running') h.NextStep = r.step;
    if (r.finishedMs !== null) h.FinishedDate = r.finishedMs / 1000;
    if (r.lastError) h.LastError = r.lastError;
    out.push(h);
  }
  return out;
}

/** Events of the event log, as the API extension returns them. */
export function eventsView(events: EventRecord[]) {
  return events.map((e) => ({ EventId: e.id, Date: e.timeMs / 1000, Type: e.type, SecretArn: e.secretArn ?? undefined, Detail: JSON.parse(e.detail) }));
}

/** A history as lines of text for the terminal. */
export function formatHistory(name: string, runs: RunHistory[]): string {
  if (runs.length === 0) return `${name}: no rotations yet\n`;
  const iso = (s: number) => new Date(s * 1000).toISOString();
  const lines: string[] = [];
  for (const r of runs) {
    lines.push(
      `run ${r.RunId} ${r.Kind} ${r.State}${r.NextStep ? ` (next: ${r.NextStep})` : ''} token ${r.Token} started ${iso(r.StartedDate)}` +
        (r.FinishedDate ? ` finished ${iso(r.FinishedDate)}` : ''),
    );
    lines.push(`  function ${r.FunctionArn}`);
    for (const st of r.Steps) {
      lines.push(`  ${iso(st.StartedDate)} ${st.Step.padEnd(12)} attempt ${st.Attempt} ${st.Outcome.padEnd(9)} ${st.DurationMs} ms${st.Error ? `  ${st.Error}` : ''}`);
    }
    if (r.LastError) lines.push(`  last error: ${r.LastError}`);
  }
  return lines.join('\n') + '\n';
}
