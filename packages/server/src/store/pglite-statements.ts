import { type PGlite, type Results, parse, protocol } from '@electric-sql/pglite';

/** Statements kept prepared at once; the least recently used is closed beyond this. */
export const MAX_PREPARED = 128;
/** Texts remembered as run once (only the texts: a text run again is then kept prepared). */
const MAX_SEEN_ONCE = 1024;

/** SQLSTATE PostgreSQL answers when a prepared statement's result columns changed (DDL). */
const CACHED_PLAN_CHANGED = '0A000';

type BackendMessage = Awaited<ReturnType<PGlite['execProtocol']>>['messages'][number];

interface Prepared {
  name: string;
  /** The parameters' type OIDs, as PostgreSQL inferred them: how each value is serialized. */
  paramTypes: number[];
  /** The statement's RowDescription; undefined for a command that returns no rows. */
  rowDescription: BackendMessage | undefined;
}

/**
 * Runs statements on PGlite as named prepared statements, the way a PostgreSQL driver's prepared
 * statements do: the first run of a text parses and describes it (Parse, Describe, Sync), every run
 * binds and executes it (Bind, Execute, Sync) in one call into PGlite's WebAssembly.
 * `PGlite.query` instead parses, plans and describes every statement anew, in five calls (Parse,
 * Describe, Bind, Describe, Execute, then Sync): a lookup by primary key and an update cost 3.3×
 * less CPU this way (packages/server/README.md, "Embedded stores").
 *
 * A text is kept prepared from its second run on (at most MAX_PREPARED of them); one run once is
 * closed in the same call that ran it, so no plan is held for it.
 *
 * Results are PGlite's own (`parseResults`, its type parsers and serializers), so rows read the
 * same as through `query`. Callers serialize access (see pglite-client.ts): `execProtocol` takes
 * none of PGlite's locks.
 */
export class PgliteStatements {
  private readonly prepared = new Map<string, Prepared>();
  /** Texts run once and not kept: a statement is kept from its second run on. */
  private readonly seenOnce = new Set<string>();
  private next = 0;
  /** Statements forgotten, closed with the next Parse (the one that needed the room, or a new one). */
  private toClose: string[] = [];

  constructor(
    private readonly db: PGlite,
    private readonly max = MAX_PREPARED,
  ) {}

  /** How many statements are prepared now (tests). */
  get size(): number {
    return this.prepared.size;
  }

  /**
   * Runs `text` with `params`. Inside a transaction (`inTransaction`) nothing is synced to the
   * file system (the COMMIT is) and a statement that fails is not retried: the transaction is over.
   */
  async run<R>(text: string, params: readonly unknown[], inTransaction: boolean): Promise<Results<R>> {
    try {
      return await this.execute<R>(text, params, inTransaction);
    } catch (err) {
      if ((err as { code?: unknown }).code !== CACHED_PLAN_CHANGED) throw err;
      // A table the statement reads changed shape since it was prepared: prepare it again.
      this.forget(text);
      if (inTransaction) throw err;
      return this.execute<R>(text, params, inTransaction);
    }
  }

  private async execute<R>(text: string, params: readonly unknown[], inTransaction: boolean) {
    let statement = this.prepared.get(text);
    // A text run once (a history filter's combination) is closed at once: its plan would hold
    // PostgreSQL memory for nothing. From its second run on, it is kept.
    const keep = statement !== undefined || this.seenOnce.delete(text);
    statement ??= await this.prepare(text, keep);
    if (keep) {
      // Most recently used last: the first entry is the one to evict.
      this.prepared.delete(text);
      this.prepared.set(text, statement);
    } else {
      this.seenOnce.add(text);
      if (this.seenOnce.size > MAX_SEEN_ONCE) this.seenOnce.delete(this.seenOnce.values().next().value!);
    }
    const values = params.map((value, i) => this.serialize(value, statement.paramTypes[i]));
    const parts = [
      protocol.serialize.bind({ statement: statement.name, values }),
      protocol.serialize.execute({}),
    ];
    if (!keep) parts.push(protocol.serialize.close({ type: 'S', name: statement.name }));
    parts.push(protocol.serialize.sync());
    const { messages } = await this.db
      .execProtocol(concat(parts), { syncToFs: !inTransaction })
      .catch((err) => {
        // The Close after a failed Execute was skipped (PostgreSQL skips to the Sync): close it later.
        if (!keep) this.toClose.push(statement.name);
        throw err;
      });
    const all = statement.rowDescription ? [statement.rowDescription, ...messages] : messages;
    return parse.parseResults(all, this.db.parsers)[0] as Results<R>;
  }

  private async prepare(text: string, keep: boolean): Promise<Prepared> {
    const name = `galley_${this.next++}`;
    // Room first: PostgreSQL never holds more than `max` of them.
    while (keep && this.prepared.size >= this.max) {
      const [oldest] = this.prepared.keys();
      this.forget(oldest!);
    }
    const parts: Uint8Array[] = [];
    for (const old of this.toClose.splice(0)) parts.push(protocol.serialize.close({ type: 'S', name: old }));
    parts.push(
      protocol.serialize.parse({ name, text }),
      protocol.serialize.describe({ type: 'S', name }),
      protocol.serialize.sync(),
    );
    const { messages } = await this.db.execProtocol(concat(parts), { syncToFs: false });
    const description = messages.find((m) => m.name === 'parameterDescription') as
      { dataTypeIDs: number[] } | undefined;
    const statement: Prepared = {
      name,
      paramTypes: description?.dataTypeIDs ?? [],
      rowDescription: messages.find((m) => m.name === 'rowDescription'),
    };
    return statement;
  }

  private forget(text: string): void {
    const statement = this.prepared.get(text);
    if (!statement) return;
    this.prepared.delete(text);
    this.toClose.push(statement.name);
  }

  /** As `PGlite.query` does: null stays null, a type with a serializer uses it, the rest is text. */
  private serialize(value: unknown, type: number | undefined): string | null {
    if (value === null || value === undefined) return null;
    const serializer = type === undefined ? undefined : this.db.serializers[type];
    return serializer ? serializer(value) : String(value);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
