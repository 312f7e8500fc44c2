/**
 * Where a download lands (R-STORE on the client's side): one file handle, written at each range's offset in
 * large positioned writes, and the file's SHA-256 computed while the bytes arrive. The hash follows the
 * in-order prefix: a chunk that arrives exactly where the hash stands is hashed from memory at once; bytes
 * that arrived ahead of it (a later range) are hashed when the hash reaches them, from memory while they
 * still wait for their write, else read back from the file. So every byte is hashed exactly once and, when
 * the ranges arrive in order (one range, say), nothing is read back.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

const MIB = 1024 * 1024;
/** Chunks (64 KiB socket reads) are gathered into one `writev` of about this much: far fewer system calls. */
const WRITE_BATCH = MIB;
const READ_BACK = 4 * MIB;

/** One range of the file, filled in order by one GET, or by its retries, each resuming at `arrived`. */
export class Segment {
  readonly start: number;
  readonly end: number;
  /** Bytes [start, arrived) have arrived. */
  arrived: number;
  /** Bytes [start, flushed) are in the file. */
  flushed: number;
  /** The chunks of [flushed, arrived), in order: the last `batched` of them not yet handed to a write. */
  readonly held: Buffer[] = [];
  batched = 0;
  batchBytes = 0;
  /** The last write handed out; this range's writes run one after the other. */
  writing: Promise<void> | undefined;

  constructor(start: number, end: number) {
    this.start = start;
    this.end = end;
    this.arrived = start;
    this.flushed = start;
  }
}

export class Landing {
  readonly size: number;
  readonly segments: Segment[] = [];
  private readonly rangeSize: number;
  private readonly file: FileHandle;
  private readonly copy: FileHandle | undefined;
  private readonly hash = createHash('sha256');
  /** Bytes [0, hashed) are in the hash. Invariant: within the range at `hashed`, hashed ≤ flushed or hashed = arrived. */
  private hashed = 0;
  private running = false;
  private again = false;
  private catchingUp: Promise<void> = Promise.resolve();
  private failure: { err: unknown } | undefined;
  private readBuffer: Buffer | undefined;
  private closing: Promise<void> | undefined;
  private readonly written: ((chunks: Buffer[]) => void) | undefined;

  private constructor(file: FileHandle, copy: FileHandle | undefined, size: number, rangeSize: number, written?: (chunks: Buffer[]) => void) {
    this.file = file;
    this.copy = copy;
    this.written = written;
    this.size = size;
    this.rangeSize = rangeSize;
    for (let start = 0; start < size; start += rangeSize) this.segments.push(new Segment(start, Math.min(size, start + rangeSize)));
    if (size === 0) this.segments.push(new Segment(0, 0));
  }

  /**
   * A new file at `path` for `size` bytes, received as ranges of `rangeSize` (one range when it is ≥ size).
   * With `copyTo`, every batch is also written there, from the same memory: a second file with the same bytes
   * for the price of its writes, where copying the first once verified would read it all again.
   * `written` gets the chunks of each batch once it is in the file(s) and no longer needed here (the
   * reader reuses their memory); a failed write keeps its chunks.
   */
  static async open(path: string, size: number, rangeSize: number, copyTo?: string, written?: (chunks: Buffer[]) => void): Promise<Landing> {
    const file = await open(path, 'w+');
    const copy = copyTo === undefined ? undefined : await open(copyTo, 'w').catch(async (err: unknown) => {
      await file.close();
      throw err;
    });
    return new Landing(file, copy, size, Math.max(1, rangeSize), written);
  }

  /**
   * Takes the next chunk of `seg`. A promise asks the caller to wait before the next chunk: this range's
   * previous write is still in flight while another batch is full, which bounds memory at 3 batches a range.
   */
  take(seg: Segment, chunk: Buffer): Promise<void> | undefined {
    if (this.failure) throw this.failure.err;
    if (seg.arrived + chunk.length > seg.end) throw new Error(`range ${seg.start}-${seg.end - 1} received bytes past its end`);
    if (seg.arrived === this.hashed) {
      this.hash.update(chunk);
      this.hashed += chunk.length;
    }
    seg.arrived += chunk.length;
    seg.held.push(chunk);
    seg.batched++;
    seg.batchBytes += chunk.length;
    if (this.hashed === seg.end && seg.end < this.size) this.catchUp();
    return seg.batchBytes >= WRITE_BATCH || seg.arrived === seg.end ? this.write(seg) : undefined;
  }

  /** Once every byte of every range has arrived: writes what is held, finishes the hash, closes the file. */
  async digest(): Promise<string> {
    for (const seg of this.segments) {
      if (seg.arrived !== seg.end) throw new Error(`range ${seg.start}-${seg.end - 1} is incomplete (${seg.arrived - seg.start} of ${seg.end - seg.start} bytes)`);
      await seg.writing;
    }
    this.catchUp();
    await this.catchingUp;
    if (this.failure) throw this.failure.err;
    if (this.hashed !== this.size) throw new Error(`hashed ${this.hashed} of ${this.size} bytes`);
    await this.close();
    return this.hash.digest('hex');
  }

  /** Waits for the writes in flight, then closes the file (also after a failure). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled(this.segments.map((s) => s.writing));
      await this.catchingUp;
      await Promise.all([this.file.close(), this.copy?.close()]);
    })();
    return this.closing;
  }

  /** Hands the batch to a write queued after this range's previous one, and answers that previous write. */
  private write(seg: Segment): Promise<void> | undefined {
    const chunks = seg.held.slice(seg.held.length - seg.batched);
    const at = seg.arrived - seg.batchBytes;
    const length = seg.batchBytes;
    seg.batched = 0;
    seg.batchBytes = 0;
    const previous = seg.writing;
    const written = (async () => {
      await previous;
      // Both writes settle before this one counts as done (or failed), so that close never overlaps a write.
      const results = await Promise.allSettled([writeAll(this.file, chunks, at), this.copy && writeAll(this.copy, chunks, at)]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
      seg.held.splice(0, chunks.length);
      seg.flushed = at + length;
      this.written?.(chunks);
      this.catchUp();
    })();
    // A failed write fails every later `take` and the digest; marked handled here, it is reported there.
    written.catch((err: unknown) => (this.failure ??= { err }));
    seg.writing = written;
    return previous;
  }

  /** Moves the hash on over whatever has arrived at its position: held chunks from memory, written bytes from the file. */
  private catchUp(): void {
    this.again = true;
    if (this.running) return;
    this.running = true;
    this.catchingUp = (async () => {
      try {
        while (this.again) {
          this.again = false;
          for (let seg = this.segmentAt(this.hashed); seg; seg = this.segmentAt(this.hashed)) {
            if (this.hashed < seg.flushed) {
              await this.readBack(Math.min(seg.flushed, this.hashed + READ_BACK));
              continue;
            }
            if (this.hashed === seg.flushed && seg.arrived > seg.flushed) {
              for (const chunk of seg.held) this.hash.update(chunk);
              this.hashed = seg.arrived;
            }
            if (this.hashed !== seg.end) break;
          }
        }
      } catch (err) {
        this.failure ??= { err };
      } finally {
        this.running = false;
      }
    })();
  }

  private segmentAt(offset: number): Segment | undefined {
    return offset < this.size ? this.segments[Math.floor(offset / this.rangeSize)] : undefined;
  }

  private async readBack(to: number): Promise<void> {
    const buffer = (this.readBuffer ??= Buffer.allocUnsafe(READ_BACK));
    const length = to - this.hashed;
    const { bytesRead } = await this.file.read(buffer, 0, length, this.hashed);
    if (bytesRead !== length) throw new Error(`read back ${bytesRead} of ${length} bytes at ${this.hashed}`);
    this.hash.update(buffer.subarray(0, length));
    this.hashed = to;
  }
}

/** `writev` until every byte is in the file (a regular file takes a whole `writev` unless interrupted). */
async function writeAll(file: FileHandle, chunks: Buffer[], at: number): Promise<void> {
  let rest = chunks;
  let position = at;
  while (rest.length > 0) {
    const { bytesWritten } = await file.writev(rest, position);
    if (bytesWritten === 0) throw new Error(`writev wrote nothing at ${position}`);
    position += bytesWritten;
    let skip = bytesWritten;
    let i = 0;
    while (i < rest.length && skip >= rest[i]!.length) skip -= rest[i++]!.length;
    rest = i < rest.length ? [rest[i]!.subarray(skip), ...rest.slice(i + 1)] : [];
  }
}
