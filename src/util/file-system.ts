/**
 * The file-system seam. Every byte the log reads or writes goes through `FileSystem`, so tests
 * can swap the real disk (`NodeFileSystem`, src/util/node-file-system.ts) for a simulated one
 * that models power loss (`SimDisk`, src/testing/sim-disk.ts).
 *
 * Durability contract (POSIX, as ext4/xfs behave with default options, and what the log relies on):
 * - `write` puts bytes in the page cache only. They survive the process being killed, but not a
 *   power failure, until `datasync()` on that handle resolves.
 * - Creating, renaming or unlinking a directory entry is durable only after `syncDirectory()` of
 *   the parent directory resolves.
 * - `truncate` changes the file size at once for readers; it is durable after `datasync()`.
 * - Reads always see the latest writes (the page cache), durable or not.
 *
 * Deliberately small: positional reads and writes, no streams, no file descriptors leaking out.
 */

/** How a file is opened. `'create'` makes the file if missing and never truncates it. */
export type OpenMode = 'read' | 'readWrite' | 'create'

export interface FileHandle {
  /** Path the handle was opened with, for error messages. */
  readonly path: string
  /** Writes all of `data` at byte `position`. */
  write(data: Uint8Array, position: number): Promise<void>
  /** Writes the buffers back to back starting at byte `position` (one system call if possible). */
  writev(buffers: readonly Uint8Array[], position: number): Promise<void>
  /**
   * `writev` on the calling thread, where a file system offers it. A small write into the page
   * cache takes microseconds, less than handing it to a worker thread and back; the log uses it
   * for small writes only (partition-log.ts), never for fsync.
   */
  writevSync?(buffers: readonly Uint8Array[], position: number): void
  /**
   * Reads up to `length` bytes at `position` into `target` (from `targetOffset`) and resolves with
   * the number of bytes read: fewer than asked only at end of file.
   */
  read(target: Uint8Array, targetOffset: number, length: number, position: number): Promise<number>
  /** Makes every write and truncate of this file durable (fdatasync). */
  datasync(): Promise<void>
  /** Sets the file's size; bytes past `length` are gone. */
  truncate(length: number): Promise<void>
  /** Current size in bytes, including writes not yet synced. */
  size(): Promise<number>
  close(): Promise<void>
}

export interface FileSystem {
  /** Opens a file. `'read'` and `'readWrite'` fail with code `ENOENT` when it does not exist. */
  open(path: string, mode: OpenMode): Promise<FileHandle>
  /** Names (not paths) of the entries of a directory, sorted. */
  list(directory: string): Promise<string[]>
  /** Creates a directory and its parents; fine if it exists. Durable after syncing its parent. */
  mkdir(directory: string): Promise<void>
  /** Atomically replaces `to` with `from`. Durable after `syncDirectory` of the parent. */
  rename(from: string, to: string): Promise<void>
  /** Removes a file; fine if it does not exist. Durable after `syncDirectory` of the parent. */
  unlink(path: string): Promise<void>
  /** Makes creations, renames and unlinks in `directory` durable (fsync of the directory). */
  syncDirectory(directory: string): Promise<void>
  /** Whether a file or directory exists (page-cache view). */
  exists(path: string): Promise<boolean>
}
