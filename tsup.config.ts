import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import { defineConfig } from 'tsup'

/**
 * undici ships each llhttp wasm build as a CommonJS module exporting a Buffer. Bundled as is,
 * esbuild's ESM interop copies the Buffer's indexed properties into getters (about 50,000 per
 * build, 20+ MiB of heap at import). Load them as ESM modules exporting the Buffer instead.
 */
const llhttpWasmAsEsm = {
  name: 'llhttp-wasm-as-esm',
  setup(build: { onLoad: (o: { filter: RegExp }, cb: (a: { path: string }) => { contents: string; loader: 'js' }) => void }) {
    build.onLoad({ filter: /undici[\\/]lib[\\/]llhttp[\\/]llhttp(_simd)?-wasm\.js$/ }, (args) => {
      const match = /const wasmBase64 = '([A-Za-z0-9+/=]+)'/.exec(readFileSync(args.path, 'utf8'))
      if (match === null) throw new Error(`llhttp-wasm-as-esm: no wasmBase64 in ${args.path}`)
      return {
        contents: `import { Buffer } from 'node:buffer'\nexport default Buffer.from('${match[1]}', 'base64')\n`,
        loader: 'js',
      }
    })
  },
}

const common = {
  esbuildPlugins: [llhttpWasmAsEsm],
  target: 'node20',
  platform: 'node',
  sourcemap: false,
  // undici is a devDependency: only its llhttp wasm is bundled, so there are no runtime deps.
  noExternal: [/^undici\//],
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
