# bash completion for pv-ctl(1): verbs, service names, GROUP:*, signals.
# Install as /usr/share/bash-completion/completions/pv-ctl, or source it.

_pv_ctl_scandir()
{
    local i
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == -d ]]; then
            printf '%s\n' "${COMP_WORDS[i+1]}"
            return
        fi
    done
    if [[ -n $PV_SCANDIR ]]; then
        printf '%s\n' "$PV_SCANDIR"
    elif [[ $EUID -eq 0 ]]; then
        printf '%s\n' /etc/pv/service
    else
        printf '%s\n' "${XDG_CONFIG_HOME:-$HOME/.config}/pv/service"
    fi
}

_pv_ctl_names()
{
    local dir=$1 entry name
    local -A groups=()
    printf '%s\n' all
    for entry in "$dir"/*; do
        [[ -d $entry ]] || continue
        name=${entry##*/}
        printf '%s\n' "$name"
        if [[ -r $entry/group ]]; then
            read -r name _ < "$entry/group" && [[ -n $name ]] && groups[$name]=1
        fi
    done
    for name in "${!groups[@]}"; do
        printf '%s\n' "$name:*"
    done
}

_pv_ctl()
{
    local cur prev verb i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    local verbs="status start stop restart once signal pid tail check add remove reread update shell version help"
    case $prev in
        -d) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        -w|-n|--group|--log-size|--log-keep) return ;;
    esac
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -d|-w) ((i++)) ;;
            -*) ;;
            *) verb=${COMP_WORDS[i]}; break ;;
        esac
    done
    if [[ -z $verb ]]; then
        COMPREPLY=($(compgen -W "$verbs -d --json -w --no-wait --help" -- "$cur"))
        return
    fi
    local IFS=$'\n'
    case $verb in
        help) COMPREPLY=($(compgen -W "${verbs// /$'\n'}" -- "$cur")) ;;
        version|reread|update|shell) ;;
        add) COMPREPLY=($(compgen -W $'--group\n--down\n--log-size\n--log-keep\n--' -- "$cur")) ;;
        signal)
            if [[ $prev == signal ]]; then
                COMPREPLY=($(compgen -W $'STOP\nCONT\nHUP\nALRM\nINT\nQUIT\nUSR1\nUSR2\nTERM\nKILL' -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_pv_ctl_names "$(_pv_ctl_scandir)")" -- "$cur"))
            fi ;;
        tail)
            COMPREPLY=($(compgen -W "-f"$'\n'"-n"$'\n'"$(_pv_ctl_names "$(_pv_ctl_scandir)")" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "$(_pv_ctl_names "$(_pv_ctl_scandir)")" -- "$cur")) ;;
    esac
}
complete -F _pv_ctl pv-ctl
