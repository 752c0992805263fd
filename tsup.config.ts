import { copyFileSync, mkdirSync } from 'node:fs'
import { defineConfig } from 'tsup'

const common = {
  target: 'node20',
  platform: 'node',
  sourcemap: false,
  // undici is a devDependency: only its llhttp wasm is bundled, so there are no runtime deps.
  noExternal: [/^undici\//],
  // The bundled wasm modules are CommonJS and require('node:buffer'): give ESM output a require.
  banner: (ctx: { format: string }) =>
    ctx.format === 'esm'
      ? { js: "import { createRequire as __strictgateCreateRequire } from 'node:module'\nconst require = __strictgateCreateRequire(import.meta.url)" }
      : {},
} as const

export default defineConfig([
  {
    ...common,
    entry: { index: 'src/index.ts', demo: 'src/demo.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: false,
    onSuccess: async () => {
      mkdirSync('dist', { recursive: true })
      copyFileSync('THIRD_PARTY_NOTICES.md', 'dist/THIRD_PARTY_NOTICES.md')
    },
  },
  {
    ...common,
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
  },
])
