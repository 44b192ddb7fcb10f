#!/usr/bin/env bash
# Generate a demo CA and the mutual-TLS identities of the two ecdsa2pc parties.
#
#   certs/generate_certs.sh [DIR] [--san NAME]... [--extra NAME] [--renew | --force]
#
# Writes into DIR (default: the directory holding this script):
#   ca-cert.pem       ca-key.pem        CA "ecdsa2pc demo CA XXXXXXXX" (random suffix; CA:TRUE,
#                                       keyCertSign)
#   server-cert.pem   server-key.pem    party 0, TLS server: CN=localhost,
#                                       SAN DNS:localhost + IP:127.0.0.1, serverAuth
#   client1-cert.pem  client1-key.pem   party 1, TLS client: CN=client1, clientAuth
#   NAME-cert.pem     NAME-key.pem      only with --extra NAME: another clientAuth
#                                       identity (CN=NAME) from the same CA
#
# --san NAME   (repeatable) also names the server certificate after NAME: a host name
#              (SAN DNS:NAME) or an IPv4/IPv6 address (SAN IP:NAME), beside localhost.
# --renew      re-issues every certificate in DIR over its EXISTING key (new validity and
#              serial, SANs kept, --san ones added). Key shares keep working: a party id is
#              the SHA-256 of the certificate's public key, which does not change.
# --force      makes everything anew, NEW KEYS included: key shares made with the old
#              certificates stop working (their party ids no longer match). Use --renew
#              to extend or rename certificates.
#
# Keys are ECDSA P-256 (PKCS#8), mode 0600; certificates are valid for 825 days.
# Existing files are never overwritten unless --force or --renew is given. If every file
# already exists the script says so and exits 0; if only some exist it refuses (exit 1).
# With --extra and an existing CA, only the extra identity is created (signed by that CA).
set -euo pipefail

readonly DAYS=825
readonly CURVE=P-256

usage() {
    sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
    echo "generate_certs.sh: error: $*" >&2
    exit 1
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out_dir=""
force=0
renew=0
extra=""
sans=()

while [[ $# -gt 0 ]]; do
    case "$1" in
        --force) force=1 ;;
        --renew) renew=1 ;;
        --san)
            [[ $# -ge 2 ]] || die "--san needs a NAME (a host name or an IP address)"
            sans+=("$2")
            shift
            ;;
        --san=*) sans+=("${1#--san=}") ;;
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

[[ $force -eq 0 || $renew -eq 0 ]] || die "--force and --renew exclude each other: --renew keeps the keys, --force replaces them"
[[ $renew -eq 0 || -z "$extra" ]] || die "--renew and --extra cannot be combined: add the identity first, then renew (or the other way round)"

# The SAN entry for NAME: IP:NAME for an IPv4 or IPv6 address, DNS:NAME for a host name.
san_entry() {
    local name="$1" octet
    if [[ "$name" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
        for octet in ${name//./ }; do
            [[ ${#octet} -le 3 && $((10#$octet)) -le 255 ]] || die "--san $name: not an IPv4 address (each part must be 0-255)"
        done
        echo "IP:$name"
    elif [[ "$name" == *:* ]]; then
        [[ "$name" =~ ^[0-9A-Fa-f:.]+$ ]] || die "--san $name: not an IPv6 address"
        echo "IP:$name"
    elif [[ "$name" =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$ ]]; then
        echo "DNS:$name"
    else
        die "--san $name: neither an IP address nor a host name (letters, digits, '-' and '.')"
    fi
}
server_sans=("DNS:localhost" "IP:127.0.0.1")
for name in "${sans[@]}"; do
    server_sans+=("$(san_entry "$name")")
done

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

if [[ $renew -eq 1 ]]; then
    mapfile -t have_base < <(existing "${base_files[@]}")
    [[ ${#have_base[@]} -eq ${#base_files[@]} ]] \
        || die "--renew needs every file of an existing set in $out_dir (${base_files[*]}); found: ${have_base[*]:-none}"
elif [[ $force -eq 1 ]]; then
    mapfile -t have_any < <(existing "${base_files[@]}" "${extra_files[@]}")
    if [[ ${#have_any[@]} -gt 0 ]]; then
        echo "WARNING: --force makes NEW keys and certificates in $out_dir (replacing ${have_any[*]})." >&2
        echo "WARNING: key shares made with the old certificates will stop working: a party id is" >&2
        echo "WARNING: the hash of the certificate's public key, so both parties must run keygen again." >&2
        echo "WARNING: to extend or rename certificates and keep the keys (and shares), use --renew." >&2
    fi
else
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
    if [[ $make_base -eq 0 && ${#sans[@]} -gt 0 ]]; then
        die "the certificates in $out_dir exist already; --san applies when one is issued:" \
            "add --renew to re-issue them over the same keys with the new names"
    fi
    if [[ $make_base -eq 0 && $make_extra -eq 0 ]]; then
        echo "All certificate files already exist in $out_dir; nothing to do."
        echo "Rerun with --renew to re-issue the certificates over the same keys (key shares keep"
        echo "working), or --force for new keys (key shares made with the old ones stop working)."
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
subjectAltName = @SANS@
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

# The SANs of an existing server certificate, as config entries (kept on renewal).
old_sans() {
    openssl x509 -noout -ext subjectAltName -in "$1" 2>/dev/null \
        | tail -n +2 | tr ',' '\n' | sed 's/^[[:space:]]*//; s/^IP Address:/IP:/' | grep -E '^(DNS|IP):' || true
}
if [[ $renew -eq 1 ]]; then
    mapfile -t kept < <(old_sans "$out_dir/server-cert.pem")
    server_sans=("${kept[@]}" "${server_sans[@]}")
fi
# Deduplicated, in order, comma-separated.
san_line="$(printf '%s\n' "${server_sans[@]}" | awk '!seen[$0]++' | paste -sd, - | sed 's/,/, /g')"
sed "s/@SANS@/$san_line/" "$work/ext.cnf" >"$work/ext.cnf.new" && mv -- "$work/ext.cnf.new" "$work/ext.cnf"

# The CN of an existing certificate (kept on renewal), or $2 if it has none.
old_cn() {
    local cn
    cn="$(openssl x509 -noout -subject -nameopt RFC2253 -in "$1" 2>/dev/null | sed -n 's/^subject=.*CN=\([^,]*\).*/\1/p')"
    echo "${cn:-$2}"
}

new_key() {
    openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$CURVE" -out "$1" 2>/dev/null \
        || die "openssl could not generate an EC $CURVE key"
}

# A random positive 128-bit serial number, so no serial (.srl) file is needed.
serial() {
    echo "0x01$(openssl rand -hex 15)"
}

# issue_leaf NAME CN SECTION KEY CA_CERT CA_KEY: the certificate of KEY into $work/NAME-cert.pem.
issue_leaf() {
    local name="$1" cn="$2" section="$3" key="$4" ca_cert="$5" ca_key="$6"
    openssl req -new -config "$work/ext.cnf" -key "$key" \
        -subj "/CN=$cn" -out "$work/$name.csr" \
        || die "openssl could not create the request for $name"
    openssl x509 -req -in "$work/$name.csr" -CA "$ca_cert" -CAkey "$ca_key" \
        -set_serial "$(serial)" -days "$DAYS" -sha256 \
        -extfile "$work/ext.cnf" -extensions "$section" -out "$work/$name-cert.pem" 2>/dev/null \
        || die "openssl could not sign the certificate of $name"
}

# new_leaf NAME CN SECTION CA_CERT CA_KEY: a new key and its certificate.
new_leaf() {
    new_key "$work/$1-key.pem"
    issue_leaf "$1" "$2" "$3" "$work/$1-key.pem" "$4" "$5"
}

# issue_ca KEY CN: the self-signed CA certificate of KEY into $work/ca-cert.pem.
issue_ca() {
    openssl req -x509 -new -config "$work/ext.cnf" -extensions v3_ca \
        -key "$1" -subj "/CN=$2" \
        -set_serial "$(serial)" -days "$DAYS" -sha256 -out "$work/ca-cert.pem" \
        || die "openssl could not create the CA certificate"
}

renewed=()
if [[ $renew -eq 1 ]]; then
    # Same keys, same names: only validity, serial and (for --san) the server's names change.
    make_base=0
    ca_key="$out_dir/ca-key.pem"
    issue_ca "$ca_key" "$(old_cn "$out_dir/ca-cert.pem" "ecdsa2pc demo CA")"
    ca_cert="$work/ca-cert.pem"
    renewed+=(ca-cert.pem)
    for cert in "$out_dir"/*-cert.pem; do
        name="$(basename "$cert" -cert.pem)"
        [[ "$name" != ca && -f "$out_dir/$name-key.pem" ]] || continue
        section=client
        [[ "$name" != server ]] || section=server
        issue_leaf "$name" "$(old_cn "$cert" "$name")" "$section" "$out_dir/$name-key.pem" "$ca_cert" "$ca_key"
        renewed+=("$name-cert.pem")
    done
elif [[ $make_base -eq 1 ]]; then
    new_key "$work/ca-key.pem"
    # A random suffix tells two CAs apart in certificates and TLS errors (`-v`): two runs
    # of this script make two CAs whose certificates do not verify each other's.
    ca_cn="ecdsa2pc demo CA $(openssl rand -hex 4)"
    issue_ca "$work/ca-key.pem" "$ca_cn"
    ca_cert="$work/ca-cert.pem"
    ca_key="$work/ca-key.pem"
    new_leaf server localhost server "$ca_cert" "$ca_key"
    new_leaf client1 client1 client "$ca_cert" "$ca_key"
else
    ca_cert="$out_dir/ca-cert.pem"
    ca_key="$out_dir/ca-key.pem"
fi
[[ $make_extra -eq 0 ]] || new_leaf "$extra" "$extra" client "$ca_cert" "$ca_key"

written=("${renewed[@]}")
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
        ca-cert.pem) what="CA certificate (CN=$(old_cn "$out_dir/ca-cert.pem" "ecdsa2pc demo CA")); both parties need it" ;;
        ca-key.pem) what="CA private key (keep offline; only needed to issue more certificates)" ;;
        server-cert.pem) what="party 0 (TLS server) certificate, CN=localhost, SAN $san_line" ;;
        server-key.pem) what="party 0 private key" ;;
        client1-cert.pem) what="party 1 (TLS client) certificate, CN=client1" ;;
        client1-key.pem) what="party 1 private key" ;;
        *-cert.pem) what="extra client certificate, CN=$extra" ;;
        *) what="extra client private key" ;;
    esac
    printf '  %-18s %s\n' "$f" "$what"
done
echo "Certificates are valid for $DAYS days; keys are ECDSA $CURVE with mode 0600."
if [[ $renew -eq 1 ]]; then
    echo "Renewed over the existing keys: party ids and key shares are unchanged; give each party"
    echo "its new certificate and both the new ca-cert.pem."
fi
