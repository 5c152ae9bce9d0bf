#!/usr/bin/env bash
# Builds the virtualenv for triton-models: make-venv.sh <venv-dir> <requirements.txt>
#
# nvidia-pytriton bundles the Triton server binary, whose Python backend stub embeds libpython:
# the venv's interpreter must be CPython 3.8–3.13 built with a shared libpython
# (Py_ENABLE_SHARED=1), and glibc must be >= 2.35. pyenv/python.org builds often lack the shared
# library, Debian's /usr/bin/python3 has it. TRITON_BASE_PYTHON=/path/to/python3 forces a choice.
set -euo pipefail

venv=${1:?usage: make-venv.sh <venv-dir> <requirements.txt>}
requirements=${2:?usage: make-venv.sh <venv-dir> <requirements.txt>}

glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
if [ -z "$glibc" ] || [ "$(printf '%s\n2.35\n' "$glibc" | sort -V | head -1)" != "2.35" ]; then
  echo "make-venv: nvidia-pytriton needs glibc >= 2.35, this machine has '${glibc:-unknown}'" >&2
  exit 1
fi
if [ "$(uname -m)" != "x86_64" ] && [ "$(uname -m)" != "aarch64" ]; then
  echo "make-venv: nvidia-pytriton ships wheels for x86_64 and aarch64 only, not $(uname -m)" >&2
  exit 1
fi

suitable() { # python -> 0 when it can host the Triton Python backend (CPython, shared libpython)
  "$1" - <<'PY' >/dev/null 2>&1
import sys, sysconfig, venv
assert sys.implementation.name == "cpython"
assert (3, 8) <= sys.version_info[:2] <= (3, 13)
assert sysconfig.get_config_var("Py_ENABLE_SHARED") == 1
PY
}

pick() {
  local candidate
  for candidate in ${TRITON_BASE_PYTHON:-} /usr/bin/python3 python3.12 python3.11 python3.10 python3; do
    candidate=$(command -v "$candidate" 2>/dev/null) || continue
    if suitable "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if [ -n "${TRITON_BASE_PYTHON:-}" ] && ! suitable "$TRITON_BASE_PYTHON"; then
  echo "make-venv: TRITON_BASE_PYTHON=$TRITON_BASE_PYTHON is not CPython 3.8-3.13 with a shared libpython" >&2
  exit 1
fi

apt_install() { # Debian/Ubuntu: the distribution's python3 has a shared libpython; -venv brings ensurepip
  command -v apt-get >/dev/null 2>&1 || return 1
  local sudo=""
  if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
  echo "make-venv: installing $* with apt-get" >&2
  $sudo apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

if ! python=$(pick); then
  apt_install python3 python3-venv || true
  if ! python=$(pick); then
    echo "make-venv: need CPython 3.8-3.13 with a shared libpython and the venv module;" \
         "set TRITON_BASE_PYTHON=/path/to/python3" >&2
    exit 1
  fi
fi

echo "make-venv: $python ($("$python" -V 2>&1)) -> $venv" >&2
rm -rf "$venv"
if ! "$python" -m venv "$venv"; then
  # Debian's python3 without python3-venv has no ensurepip
  rm -rf "$venv"
  minor=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  apt_install python3-venv "python$minor-venv" || { echo "make-venv: '$python -m venv' failed" >&2; exit 1; }
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -r "$requirements"
"$venv/bin/python" - <<'PY'
import sysconfig, pytriton, onnxruntime, tokenizers, numpy, confluent_kafka, torch, onnx
assert sysconfig.get_config_var("Py_ENABLE_SHARED") == 1
print(f"make-venv: ok: pytriton {pytriton.__version__ if hasattr(pytriton, '__version__') else ''}"
      f" onnxruntime {onnxruntime.__version__} tokenizers {tokenizers.__version__} numpy {numpy.__version__}"
      f" torch {torch.__version__} onnx {onnx.__version__}")
PY
