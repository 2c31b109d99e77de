import { Option } from 'commander';

/** A parser for a whole-number option within a range, with a clear error naming the flag. */
export function wholeNumber(flag: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(max === Number.MAX_SAFE_INTEGER ? `${flag} must be a whole number of at least ${min}` : `${flag} must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** `--data-dir`, the server's data directory (LOCKSTEP_DATA_DIR), shared by every command. */
export function dataDirOption(description = 'the data directory of the server'): Option {
  return new Option('--data-dir <dir>', description).env('LOCKSTEP_DATA_DIR').default('./lockstep-data');
}
