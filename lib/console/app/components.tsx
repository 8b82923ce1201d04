// Small pieces every view uses: a run's status, an error, labelled values, a time, a table.
import type { ComponentChildren } from 'preact';
import type { RunStatus } from '../../domain/types';
import { formatTime } from '../../cli/format';

/** A run's status as a word with its colour (the colour is never the only sign). */
export function StatusBadge({ status }: { status: RunStatus | 'none' }) {
  return <span class={`status status-${status.toLowerCase()}`}>{status === 'none' ? 'no runs' : status}</span>;
}

/** What went wrong, in the server's own words: `what` is what could not be done ("load the runs"). */
export function ErrorNote({ error, what }: { error?: Error; what: string }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      Could not {what}: {error.message}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** Labelled values, as `task show` prints them; rows without a value are left out. */
export function KeyValues({ rows }: { rows: Array<[string, ComponentChildren | undefined]> }) {
  const shown = rows.filter(([, value]) => value !== undefined && value !== '' && value !== null);
  return (
    <dl class="key-values">
      {shown.map(([label, value]) => (
        <div class="key-value" key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A UTC time as the CLI prints it, with the machine-readable value. */
export function Time({ at }: { at?: string }) {
  const text = formatTime(at);
  if (!text) return null;
  return <time dateTime={at}>{text}</time>;
}

/** A digest, shortened for the eye in tables (whole on hover), or `full`. */
export function Digest({ digest, full = false }: { digest: string; full?: boolean }) {
  const colon = digest.indexOf(':');
  const short = colon < 0 ? digest.slice(0, 12) : digest.slice(0, colon + 13);
  return (
    <code class="digest" title={digest}>
      {full ? digest : short}
    </code>
  );
}

/** A table under its column names, scrolling sideways when the page is narrow. */
export function DataTable({ columns, caption, class: className, children }: { columns: readonly string[]; caption?: string; class?: string; children: ComponentChildren }) {
  return (
    <div class="table-scroll">
      <table class={className}>
        {caption && <caption>{caption}</caption>}
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
