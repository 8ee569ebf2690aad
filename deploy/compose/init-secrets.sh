#!/bin/sh
# Creates the secret files that docker-compose.yml mounts, in ./secrets/ (or the directory given):
# postgres_password, database_url, secret_keys (the key ring for secrets at rest) and admin_key.
# Files that exist are left alone: a new secret_keys would make every stored secret unreadable.
set -eu

dir=${1:-secrets}
# The directory keeps other users of this machine out. The files themselves are readable by all,
# since Compose bind-mounts them with these permissions into containers that do not run as this user.
mkdir -p "$dir"
chmod 0700 "$dir"
umask 022

random() {
    python3 -c 'import secrets, sys; print(getattr(secrets, sys.argv[1])(int(sys.argv[2])))' "$1" "$2"
}

create() {
    if [ -s "$dir/$1" ]; then
        echo "kept    $dir/$1"
    else
        printf '%s' "$2" > "$dir/$1"
        echo "created $dir/$1"
    fi
}

create postgres_password "$(random token_hex 24)"
create database_url "postgresql+asyncpg://sagemcp:$(cat "$dir/postgres_password")@postgres:5432/sagemcp"
# A 256-bit key as URL-safe base64: what `sagemcp keys generate` prints.
create secret_keys "$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
create admin_key "$(random token_urlsafe 32)"
