# Python SAML SPs (Flask apps in tests/interop/python), one process per row:
# pysaml2 (current), pysaml2-6.4.1 (published signature-bypass advisories), python3-saml.
# Sourced by tests/interop/run.

_py_version() { # venv package
    "$WORK/$1/bin/python" -c "import importlib.metadata as m; print(m.version('$2'))" 2>/dev/null || echo "?"
}

_py_prepare() { # rowdir config port app
    local row=$1 config=$2 port=$3
    mkdir -p "$row/logs"
    sp_keypair "$row" "$4 $config"
    write_sp_toml "$row" "$4 ($config)" "http://127.0.0.1:$port/login" \
        "http://127.0.0.1:$port/whoami" 'user=(\S+)'
}

_py_start() { # rowdir config port venv script
    local row=$1 config=$2 port=$3
    spawn "$4:$row" "$row/logs/app.log" env PORT="$port" ROW="$row" CONFIG="$config" \
        IDP_METADATA="$IDP_METADATA" PYTHONPATH="$INTEROP/python" PYTHONUNBUFFERED=1 \
        "$WORK/$4/bin/python" "$INTEROP/python/$5"
}

# The metadata the library itself publishes is what gets registered with the broker.
_py_metadata() { # rowdir port
    curl -sf --max-time 10 "http://127.0.0.1:$2/metadata" -o "$1/sp-metadata.xml" \
        || die "cannot fetch SP metadata from 127.0.0.1:$2"
    # The library's XML encryption cannot do NemLog-in's default key transport (rsa-oaep with
    # MGF1-SHA256): the registered metadata says what it can decrypt.
    advertise_compatible_encryption "$1/sp-metadata.xml"
}

pysaml2_version() { _py_version venv pysaml2; }
pysaml2_prepare() { _py_prepare "$1" "$2" "$3" pysaml2; }
pysaml2_start() { _py_start "$1" "$2" "$3" venv pysaml2_sp.py; }
pysaml2_ready_url() { echo "http://127.0.0.1:$3/metadata"; }
pysaml2_metadata() { _py_metadata "$1" "$3"; }

pysaml2-6.4.1_version() { _py_version venv-pysaml2-6.4.1 pysaml2; }
pysaml2-6.4.1_prepare() { _py_prepare "$1" "$2" "$3" pysaml2-6.4.1; }
pysaml2-6.4.1_start() { _py_start "$1" "$2" "$3" venv-pysaml2-6.4.1 pysaml2_sp.py; }
pysaml2-6.4.1_ready_url() { echo "http://127.0.0.1:$3/metadata"; }
pysaml2-6.4.1_metadata() { _py_metadata "$1" "$3"; }

python3-saml_version() { _py_version venv python3-saml; }
python3-saml_prepare() { _py_prepare "$1" "$2" "$3" python3-saml; }
python3-saml_start() { _py_start "$1" "$2" "$3" venv python3saml_sp.py; }
python3-saml_ready_url() { echo "http://127.0.0.1:$3/metadata"; }
python3-saml_metadata() { _py_metadata "$1" "$3"; }

# python3-saml validates every response against the SAML XSDs with one cached lxml XMLSchema
# object, which is not thread-safe: with two logins in flight in Flask's threaded server,
# validation fails at random with "Internal error: xmlSchemaPValAttrNodeValue, the given type is
# not a built-in type" (seen in this tier). One scenario at a time keeps the verdicts stable.
python3-saml_concurrency() { echo 1; }
