#!/bin/sh
# The image's entry point: `sagemcp` with secrets read from files.
#
# For every SAGEMCP_<NAME>_FILE in the environment, SAGEMCP_<NAME> is set to the content of that
# file (trailing newlines dropped), so that secrets can come from Docker or Kubernetes secret files
# instead of the environment of the container. Then `sagemcp` runs with the container's arguments.
set -eu

for file_var in $(env | sed -n 's/^\(SAGEMCP_[A-Z0-9_]*_FILE\)=.*/\1/p'); do
    var=${file_var%_FILE}
    eval "path=\${$file_var}"
    if eval "[ -n \"\${$var+set}\" ]"; then
        echo "sagemcp: error: both $var and $file_var are set; keep one of them" >&2
        exit 2
    fi
    if [ ! -r "$path" ]; then
        echo "sagemcp: error: $file_var names $path, which is not a readable file; mount the secret there" >&2
        exit 2
    fi
    value=$(cat "$path")
    export "$var=$value"
    unset "$file_var"
done

exec sagemcp "$@"
