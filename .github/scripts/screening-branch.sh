#!/usr/bin/env bash
# The git side of the weekly search (.github/workflows/surveil.yml), in three steps, so that no
# screener's decision is ever rewritten and the write token never meets the project's code:
#
#   prepare OUT   (search job, no token) start from the open screening branch when there is one,
#                 with main merged in, so the search appends after the decisions committed there
#   commit OUT    (search job, no token) commit the queue and the search log, and bundle the new
#                 commits with the branch head they grow from
#   publish IN    (propose job, token; runs git and gh only) fast-forward the branch to the bundle's
#                 head: never a force-push, so a screener's commit made meanwhile makes the push fail
#                 instead of disappearing; then open the pull request, or update its description
#
# REMOTE (default origin) is read from; PUSH_URL is pushed to (default: the repository over HTTPS with
# GH_TOKEN); BRANCH defaults to surveil/queue.
set -euo pipefail
BRANCH="${BRANCH:-surveil/queue}"
REMOTE="${REMOTE:-origin}"
step="${1:?usage: screening-branch.sh prepare|commit|publish DIR}"
dir="${2:?usage: screening-branch.sh prepare|commit|publish DIR}"

bot() {
  git config user.name "github-actions[bot]"
  git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
}

case "$step" in
  prepare)
    mkdir -p "$dir"
    bot
    main=$(git rev-parse HEAD)
    if git ls-remote --exit-code --heads "$REMOTE" "$BRANCH" >/dev/null; then
      git fetch --quiet "$REMOTE" "+refs/heads/$BRANCH:refs/screening/base"
      base=$(git rev-parse refs/screening/base)
      git checkout --quiet -B "$BRANCH" "$base"
      # Main's new records and code join the branch; a conflict stops the run here, before any search.
      git merge --quiet --no-edit -m "Merge main into $BRANCH" "$main"
    else
      base=""
      git checkout --quiet -B "$BRANCH" "$main"
    fi
    printf '%s\n' "$base" > "$dir/base"
    printf '%s\n' "$main" > "$dir/main"
    ;;
  commit)
    bot
    git add screening/queue.yaml screening/strategy.yaml
    for file in screening/recall.yaml screening/watch.yaml; do
      if [[ -f "$file" ]]; then git add "$file"; fi
    done
    git commit --quiet --allow-empty --message "Screening: PubMed search of $(date -u +%F)"
    base=$(cat "$dir/base")
    from="${base:-$(cat "$dir/main")}"
    git bundle create --quiet "$dir/screening.bundle" "$from..refs/heads/$BRANCH"
    git rev-parse HEAD > "$dir/head"
    ;;
  publish)
    push="${PUSH_URL:-https://x-access-token:${GH_TOKEN:?}@github.com/${GITHUB_REPOSITORY:?}.git}"
    head=$(cat "$dir/head")
    base=$(cat "$dir/base")
    if [[ -n "$base" ]]; then
      git fetch --quiet "$push" "+refs/heads/$BRANCH:refs/screening/remote"  # holds the bundle's base
    fi
    git bundle verify --quiet "$dir/screening.bundle"
    git fetch --quiet "$dir/screening.bundle" "refs/heads/$BRANCH:refs/screening/new"
    [[ "$(git rev-parse refs/screening/new)" == "$head" ]] || { echo "the bundle's head is not the search's" >&2; exit 1; }
    # A fast-forward only. Should someone have pushed to the branch since the search began, git refuses,
    # the job fails and the next run starts from their commit: nothing a screener wrote is lost.
    if [[ -z "$base" ]] && git ls-remote --exit-code --heads "$push" "$BRANCH" >/dev/null; then
      echo "$BRANCH appeared while the search ran; nothing pushed, the next run builds on it" >&2
      exit 1
    fi
    git push --quiet "$push" "$head:refs/heads/$BRANCH"
    open=$(gh pr list --repo "${GITHUB_REPOSITORY:?}" --head "$BRANCH" --state open --json number --jq length)
    if [[ "$open" == "0" ]]; then
      gh pr create --repo "$GITHUB_REPOSITORY" --base main --head "$BRANCH" \
        --title "Screening: candidates from the weekly PubMed search" --body-file "$dir/pr-body.md"
    else
      gh pr edit "$BRANCH" --repo "$GITHUB_REPOSITORY" --body-file "$dir/pr-body.md"
    fi
    ;;
  *)
    echo "unknown step: $step" >&2
    exit 2
    ;;
esac
