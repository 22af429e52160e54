import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Crash and disk tests use real files and child processes: keep to the machine's 2 cores.
    maxWorkers: 2,
  },
})
