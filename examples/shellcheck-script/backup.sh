#!/bin/sh
# Copies every file named on the command line into a dated backup directory.
backup_dir="backups/$(date +%Y-%m-%d)"
mkdir -p "$backup_dir"

for file in "$@"; do
  # Bug: unquoted, so a name with a space is split into two words.
  cp $file "$backup_dir/"
done

# Bug: if the cd fails, the listing shows the wrong directory.
cd "$backup_dir"
ls -l
