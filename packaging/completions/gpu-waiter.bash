# bash completion for gpu-waiter                           -*- shell-script -*-
# Installed as /usr/share/bash-completion/completions/gpu-waiter and loaded on demand by
# bash-completion. Options end at COMMAND, as in gpu-waiter itself: from the first word that is
# not an option (or the word after --) on, the command's own completion takes over.

# Options that take a value in the next word (or after '=' for the long ones).
_gpu_waiter_value_options='-n --count -g --gpus --min-free-memory --max-util --idle-for --poll
    --timeout --hold-fraction --hold-max --visible-devices -I --lock-dir --name --log --cancel
    --user --slurm-arg'

_gpu_waiter_options='-h --help -n --count -g --gpus --min-free-memory --max-util --idle-for --poll
    --timeout --hold-fraction --hold-max --no-hold --visible-devices -I --lock-dir --status
    --json --watch --mine --user --name --detach --log --cancel --slurm --slurm-arg -q --quiet
    -v --verbose -V --version'

# Whether a bundle of short options (without its '-') leaves its last option waiting for a value
# in the next word: "-qn" does ("-q -n"), "-n2" and "-I{}" carry their value themselves.
_gpu_waiter_short_bundle_wants_value()
{
    local bundle=$1 i c
    for ((i = 0; i < ${#bundle}; i++)); do
        c=${bundle:i:1}
        case $c in
            n | g | I) ((i == ${#bundle} - 1)) && return 0 || return 1 ;;
        esac
    done
    return 1
}

# Groups COMP_WORDS back into the words that the shell will pass: bash splits "--poll=2s" or
# "a:b" at COMP_WORDBREAKS, but only pieces not separated by blanks form one argument.
# Sets _gw_words (the arguments before the cursor's), _gw_first (the COMP_WORDS index each
# starts at) and _gw_current (the index in _gw_words of the word being completed).
_gpu_waiter_group_words()
{
    local line=$COMP_LINE pos=0 k word blank start
    _gw_words=() _gw_first=()
    for ((k = 0; k <= COMP_CWORD; k++)); do
        word=${COMP_WORDS[k]}
        start=$pos
        while [[ ${line:pos:1} == [[:blank:]] ]]; do ((pos++)); done
        blank=$((pos > start))
        # A word the line doesn't show at this place (unusual quoting) counts as its own.
        if [[ ${line:pos} == "$word"* ]]; then
            pos=$((pos + ${#word}))
        else
            blank=1
        fi
        if ((k == 0 || blank)); then
            _gw_first+=("$k")
            _gw_words+=("$word")
        else
            _gw_words[-1]+=$word
        fi
    done
    _gw_current=$((${#_gw_words[@]} - 1))
}

_gpu_waiter()
{
    # _init_completion sets all five; words and cword are not needed here.
    # shellcheck disable=SC2034
    local cur prev words cword split
    if declare -F _init_completion >/dev/null; then
        _init_completion -s || return
    else
        cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} split=false
    fi

    local -a _gw_words _gw_first
    local _gw_current
    _gpu_waiter_group_words

    # Walk the arguments before the current one as gpu-waiter parses them.
    local i=1 w value_of=""
    while ((i < _gw_current)); do
        w=${_gw_words[i]}
        case $w in
            --)
                _gpu_waiter_command_at $((i + 1))
                return
                ;;
            --*=*) ;;
            --*)
                if [[ " ${_gpu_waiter_value_options//$'\n'/ } " == *" $w "* ]]; then
                    ((i + 1 == _gw_current)) && value_of=$w
                    ((i++))
                fi
                ;;
            -?*)
                if _gpu_waiter_short_bundle_wants_value "${w#-}"; then
                    ((i + 1 == _gw_current)) && value_of=-${w: -1}
                    ((i++))
                fi
                ;;
            *)
                _gpu_waiter_command_at "$i"
                return
                ;;
        esac
        ((i++))
    done

    [[ $split == true ]] && value_of=$prev
    if [[ -n $value_of ]]; then
        case $value_of in
            --visible-devices) mapfile -t COMPREPLY < <(compgen -W 'index uuid' -- "$cur") ;;
            -g | --gpus)
                # One more GPU after the ones already in the comma list.
                local done_part=""
                [[ $cur == *,* ]] && done_part=${cur%,*},
                mapfile -t COMPREPLY < <(compgen -P "$done_part" -W \
                    "$("${_gw_words[0]}" --internal-complete gpus 2>/dev/null)" -- "${cur##*,}")
                ;;
            --cancel)
                mapfile -t COMPREPLY < <(compgen -W \
                    "$("${_gw_words[0]}" --internal-complete jobs 2>/dev/null)" -- "$cur")
                ;;
            --log) declare -F _filedir >/dev/null && _filedir ;;
            --lock-dir)
                if declare -F _filedir >/dev/null; then
                    _filedir -d
                else
                    mapfile -t COMPREPLY < <(compgen -d -- "$cur")
                fi
                ;;
        esac
        # The other values (counts, GPU lists, sizes, durations, strings) are free-form.
        return
    fi

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_gpu_waiter_options" -- "$cur")
        return
    fi
    # The word being completed is COMMAND itself.
    _gpu_waiter_command_at "$_gw_current"
}

# Completes COMMAND, and its arguments with COMMAND's own completion, from argument index $1.
_gpu_waiter_command_at()
{
    local index=$1
    if ((index > _gw_current)); then
        return # the cursor is on "--" itself
    fi
    if declare -F _command_offset >/dev/null; then
        _command_offset "${_gw_first[index]}"
    elif ((index == _gw_current)); then
        mapfile -t COMPREPLY < <(compgen -c -- "${COMP_WORDS[COMP_CWORD]}")
    fi
}

complete -F _gpu_waiter gpu-waiter

# ex: filetype=sh
