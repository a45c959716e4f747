# fish completion for gpu-waiter, installed in fish's vendor_completions.d.
# Options end at COMMAND, as in gpu-waiter itself: from the first word that is not an option (or
# the word after --) on, the command's own completion takes over.

# Prints the tokens from COMMAND on (before the cursor), or fails while options are still being
# read. Options with a value take the next token unless given as --opt=value, -n2 or -I{}.
function __gpu_waiter_command_tokens
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l with_value --count --gpus --min-free-memory --max-util --idle-for --poll --timeout \
        --hold-fraction --hold-max --visible-devices --lock-dir --name --log --cancel --user --slurm-arg
    set -l skip 0
    for i in (seq (count $tokens))
        if test $skip -eq 1
            set skip 0
            continue
        end
        set -l token $tokens[$i]
        switch $token
            case --
                set -q tokens[(math $i + 1)]; and printf '%s\n' $tokens[(math $i + 1)..-1]
                return 0
            case '--*=*'
            case '--*'
                contains -- $token $with_value; and set skip 1
            case '-?*'
                # A bundle of short options: "-qn" waits for a value, "-n2" carries it.
                set -l letters (string split '' -- (string sub -s 2 -- $token))
                for j in (seq (count $letters))
                    if contains -- $letters[$j] n g I
                        test $j -eq (count $letters); and set skip 1
                        break
                    end
                end
            case '*'
                printf '%s\n' $tokens[$i..-1]
                return 0
        end
    end
    return 1
end

function __gpu_waiter_in_options
    not __gpu_waiter_command_tokens >/dev/null
end

# COMMAND's own completion, for the words from COMMAND on.
function __gpu_waiter_complete_command
    set -l words (__gpu_waiter_command_tokens)
    complete -C (string join ' ' -- (string escape -- $words) (commandline -ct))
end

complete -c gpu-waiter -f -n 'not __gpu_waiter_in_options' -a '(__gpu_waiter_complete_command)'
complete -c gpu-waiter -f -n __gpu_waiter_in_options -a '(__fish_complete_command)'

set -l opts -n __gpu_waiter_in_options
complete -c gpu-waiter $opts -s h -l help -d 'Print this help message and exit'
complete -c gpu-waiter $opts -s n -l count -x -d 'How many GPUs the command needs'
complete -c gpu-waiter $opts -s g -l gpus -x -a '(gpu-waiter --internal-complete gpus 2>/dev/null)' \
    -d 'Candidate GPUs: nvidia-smi indices, GPU-... UUIDs or unique prefixes'
complete -c gpu-waiter $opts -l min-free-memory -x \
    -d 'Sharing mode: a GPU qualifies with at least SIZE free'
complete -c gpu-waiter $opts -l max-util -x -d 'Also require GPU utilization <= PCT'
complete -c gpu-waiter $opts -l idle-for -x -d 'A GPU must stay available this long (0s)'
complete -c gpu-waiter $opts -l poll -x -d 'How often the GPUs are looked at (500ms)'
complete -c gpu-waiter $opts -l timeout -x -d 'Give up waiting after DURATION (exit 124)'
complete -c gpu-waiter $opts -l hold-fraction -x \
    -d "Fraction of a chosen GPU's free memory to hold (0.25)"
complete -c gpu-waiter $opts -l hold-max -x -d 'Release holds after DURATION at the latest'
complete -c gpu-waiter $opts -l no-hold -d 'Do not hold memory on the chosen GPUs'
complete -c gpu-waiter $opts -l visible-devices -x -a 'index uuid' \
    -d 'How CUDA_VISIBLE_DEVICES names the GPUs (index)'
complete -c gpu-waiter $opts -s I -x -d "Replace STR in the command's arguments with the CUDA numbers"
complete -c gpu-waiter $opts -l lock-dir -x -a '(__fish_complete_directories)' \
    -d 'Lock directory shared by all waiters (/tmp/gpu-waiter)'
complete -c gpu-waiter $opts -l name -x -d "The job's name (with --slurm: Slurm's job name)"
complete -c gpu-waiter $opts -l slurm -d "Run COMMAND through Slurm's srun instead of on this machine"
complete -c gpu-waiter $opts -l slurm-arg -x -d 'With --slurm: pass ARG to srun'
complete -c gpu-waiter $opts -l status -d 'Show GPUs, their users, lock holders and the queue'
complete -c gpu-waiter $opts -l json -d 'With --status: one JSON document'
complete -c gpu-waiter $opts -s q -l quiet -d 'Print errors only'
complete -c gpu-waiter $opts -s v -l verbose -d 'Print more detail'
complete -c gpu-waiter $opts -s V -l version -d "Print the version, the driver's and NVML's"
complete -c gpu-waiter $opts -l name -x -d 'Label the job in --status and for --cancel'
complete -c gpu-waiter $opts -l detach -d 'Return at once; the job waits and runs on its own'
complete -c gpu-waiter $opts -l log -r -d 'With --detach: the log file'
complete -c gpu-waiter $opts -l cancel -x -a '(gpu-waiter --internal-complete jobs 2>/dev/null)' \
    -d "End one's own job"
complete -c gpu-waiter $opts -l watch -d 'With --status: redraw every DURATION (2s)'
complete -c gpu-waiter $opts -l mine -d 'With --status: only my jobs'
complete -c gpu-waiter $opts -l user -x -a '(__fish_complete_users)' -d "With --status: only USER's jobs"
