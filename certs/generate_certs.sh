#!/usr/bin/env bash
# Generate a demo CA and the mutual-TLS identities of the two ecdsa2pc parties.
#
#   certs/generate_certs.sh [DIR] [--force] [--extra NAME]
#
# Writes into DIR (default: the directory holding this script):
#   ca-cert.pem       ca-key.pem        CA "ecdsa2pc demo CA" (CA:TRUE, keyCertSign)
#   server-cert.pem   server-key.pem    party 0, TLS server: CN=localhost,
#                                       SAN DNS:localhost + IP:127.0.0.1, serverAuth
#   client1-cert.pem  client1-key.pem   party 1, TLS client: CN=client1, clientAuth
#   NAME-cert.pem     NAME-key.pem      only with --extra NAME: another clientAuth
#                                       identity (CN=NAME) from the same CA
#
# Keys are ECDSA P-256 (PKCS#8), mode 0600; certificates are valid for 825 days.
# Existing files are never overwritten unless --force is given. If every file already
# exists the script says so and exits 0; if only some exist it refuses (exit 1).
# With --extra and an existing CA, only the extra identity is created (signed by that CA).
set -euo pipefail

readonly DAYS=825
readonly CURVE=P-256

usage() {
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
    echo "generate_certs.sh: error: $*" >&2
    exit 1
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out_dir=""
force=0
extra=""

while [[ $# -gt 0 ]]; do
    case "$1" in
        --force) force=1 ;;
        --extra)
            [[ $# -ge 2 ]] || die "--extra needs a NAME"
            extra="$2"
            shift
            ;;
        --extra=*) extra="${1#--extra=}" ;;
        -h | --help)
            usage
            exit 0
            ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *)
            [[ -z "$out_dir" ]] || die "more than one directory given ('$out_dir' and '$1')"
            out_dir="$1"
            ;;
    esac
    shift
done

if [[ -n "$extra" ]]; then
    [[ "$extra" =~ ^[A-Za-z0-9_-]+$ ]] || die "--extra NAME may only contain letters, digits, '-' and '_' (got '$extra')"
    case "$extra" in
        ca | server | client1) die "--extra NAME must not be '$extra' (that name is already used)" ;;
    esac
fi

if ! command -v openssl >/dev/null 2>&1; then
    echo "generate_certs.sh: error: the 'openssl' command is not installed." >&2
    echo "  Install it, e.g. 'sudo apt-get install openssl' (Debian/Ubuntu)," >&2
    echo "  'sudo dnf install openssl' (Fedora) or 'brew install openssl' (macOS)." >&2
    exit 1
fi

out_dir="${out_dir:-$script_dir}"
mkdir -p -- "$out_dir"
out_dir="$(cd -- "$out_dir" && pwd)"

base_files=(ca-cert.pem ca-key.pem server-cert.pem server-key.pem client1-cert.pem client1-key.pem)
extra_files=()
[[ -z "$extra" ]] || extra_files=("$extra-cert.pem" "$extra-key.pem")

# Prints the files of the list given as arguments that exist in out_dir.
existing() {
    local f
    for f in "$@"; do
        [[ ! -e "$out_dir/$f" ]] || echo "$f"
    done
}

make_base=1
make_extra=0
[[ -z "$extra" ]] || make_extra=1

if [[ $force -eq 0 ]]; then
    mapfile -t have_base < <(existing "${base_files[@]}")
    if [[ ${#have_base[@]} -eq ${#base_files[@]} ]]; then
        make_base=0
    elif [[ ${#have_base[@]} -gt 0 ]]; then
        die "only some certificate files exist in $out_dir (${have_base[*]});" \
            "refusing to mix old and new files: delete them or rerun with --force to regenerate all"
    fi
    if [[ $make_extra -eq 1 ]]; then
        mapfile -t have_extra < <(existing "${extra_files[@]}")
        if [[ ${#have_extra[@]} -eq 2 ]]; then
            make_extra=0
        elif [[ ${#have_extra[@]} -gt 0 ]]; then
            die "only some files of identity '$extra' exist in $out_dir (${have_extra[*]});" \
                "delete them or rerun with --force"
        fi
    fi
    if [[ $make_base -eq 0 && $make_extra -eq 0 ]]; then
        echo "All certificate files already exist in $out_dir; nothing to do."
        echo "Rerun with --force to regenerate them (both parties then need the new files)."
        exit 0
    fi
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/ecdsa2pc-certs.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
umask 077

cat >"$work/ext.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

new_key() {
    openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$CURVE" -out "$1" 2>/dev/null \
        || die "openssl could not generate an EC $CURVE key"
}

# A random positive 128-bit serial number, so no serial (.srl) file is needed.
serial() {
    echo "0x01$(openssl rand -hex 15)"
}

# new_leaf NAME CN SECTION CA_CERT CA_KEY
new_leaf() {
    local name="$1" cn="$2" section="$3" ca_cert="$4" ca_key="$5"
    new_key "$work/$name-key.pem"
    openssl req -new -config "$work/ext.cnf" -key "$work/$name-key.pem" \
        -subj "/CN=$cn" -out "$work/$name.csr" \
        || die "openssl could not create the request for $name"
    openssl x509 -req -in "$work/$name.csr" -CA "$ca_cert" -CAkey "$ca_key" \
        -set_serial "$(serial)" -days "$DAYS" -sha256 \
        -extfile "$work/ext.cnf" -extensions "$section" -out "$work/$name-cert.pem" 2>/dev/null \
        || die "openssl could not sign the certificate of $name"
}

if [[ $make_base -eq 1 ]]; then
    new_key "$work/ca-key.pem"
    openssl req -x509 -new -config "$work/ext.cnf" -extensions v3_ca \
        -key "$work/ca-key.pem" -subj "/CN=ecdsa2pc demo CA" \
        -set_serial "$(serial)" -days "$DAYS" -sha256 -out "$work/ca-cert.pem" \
        || die "openssl could not create the CA certificate"
    ca_cert="$work/ca-cert.pem"
    ca_key="$work/ca-key.pem"
    new_leaf server localhost server "$ca_cert" "$ca_key"
    new_leaf client1 client1 client "$ca_cert" "$ca_key"
else
    ca_cert="$out_dir/ca-cert.pem"
    ca_key="$out_dir/ca-key.pem"
fi
[[ $make_extra -eq 0 ]] || new_leaf "$extra" "$extra" client "$ca_cert" "$ca_key"

written=()
[[ $make_base -eq 0 ]] || written+=("${base_files[@]}")
[[ $make_extra -eq 0 ]] || written+=("${extra_files[@]}")

# Install: keys 0600, certificates 0644; mv within out_dir replaces each file atomically.
for f in "${written[@]}"; do
    case "$f" in
        *-key.pem) chmod 600 "$work/$f" ;;
        *) chmod 644 "$work/$f" ;;
    esac
    cp -p -- "$work/$f" "$out_dir/.$f.tmp"
    mv -f -- "$out_dir/.$f.tmp" "$out_dir/$f"
done

echo "Wrote into $out_dir:"
for f in "${written[@]}"; do
    case "$f" in
        ca-cert.pem) what="CA certificate (CN=ecdsa2pc demo CA); both parties need it" ;;
        ca-key.pem) what="CA private key (keep offline; only needed to issue more certificates)" ;;
        server-cert.pem) what="party 0 (TLS server) certificate, CN=localhost, SAN localhost, 127.0.0.1" ;;
        server-key.pem) what="party 0 private key" ;;
        client1-cert.pem) what="party 1 (TLS client) certificate, CN=client1" ;;
        client1-key.pem) what="party 1 private key" ;;
        *-cert.pem) what="extra client certificate, CN=$extra" ;;
        *) what="extra client private key" ;;
    esac
    printf '  %-18s %s\n' "$f" "$what"
done
echo "Certificates are valid for $DAYS days; keys are ECDSA $CURVE with mode 0600."
