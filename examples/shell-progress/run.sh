#!/usr/bin/env bash
# Colours with ANSI escape codes, and a progress bar redrawn in place with \r.
set -euo pipefail

red=$'\e[31m' green=$'\e[32m' yellow=$'\e[33m' blue=$'\e[34m' bold=$'\e[1m' reset=$'\e[0m'

printf '%sruns in colour:%s %sred%s %sgreen%s %syellow%s %sblue%s\n' \
  "$bold" "$reset" "$red" "$reset" "$green" "$reset" "$yellow" "$reset" "$blue" "$reset"

width=30
for step in $(seq 0 20); do
  percent=$((step * 5))
  filled=$((percent * width / 100))
  bar=$(printf '%*s' "$filled" '' | tr ' ' '#')
  gap=$(printf '%*s' "$((width - filled))" '')
  printf '\r%sworking%s [%s%s] %3d%%' "$yellow" "$reset" "$bar" "$gap" "$percent"
  sleep 0.05
done
printf '\n%sdone%s\n' "$green" "$reset"
