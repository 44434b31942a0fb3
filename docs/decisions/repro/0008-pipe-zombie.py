import os, subprocess, time, sys
# usage: 0008-pipe-zombie.py [nopipe|pipe] [long] [reap]   (load the cores first, e.g. two `yes > /dev/null`)
S='/tmp/zz/sock'
def t(*a): return subprocess.run(['tmux','-S',S,'-f','/dev/null',*a],capture_output=True,text=True).stdout
zombies_total=0
for trial in range(8):
    subprocess.run(['tmux','-S',S,'kill-server'],capture_output=True)
    t('new-session','-d','-s','z','-x','200','-y','50','sleep 100')
    t('set','-g','remain-on-exit','on')
    fds=[]
    for n in range(1,6):
        f=f'/tmp/zz/f{n}'
        if not os.path.exists(f): os.mkfifo(f,0o600)
        fd=os.open(f,os.O_RDWR|os.O_NONBLOCK); fds.append(fd)
    # create windows with pipe in the same command list
    for n in range(1,6):
        (t('new-window','-d','-t',f'z:{n}','/tmp/zz/agent.sh') if len(sys.argv)>1 and sys.argv[1]=='nopipe' else t('new-window','-d','-t',f'z:{n}','/tmp/zz/agent.sh',';','pipe-pane','-O','-t',f'z:{n}.0',f'exec /usr/bin/tee /proc/{os.getpid()}/fd/{fds[n-1]}'))
    end=time.time()+(5 if len(sys.argv)<3 else 20)
    while time.time()<end:
        for fd in fds:
            try:
                while os.read(fd,65536): pass
            except BlockingIOError: pass
        time.sleep(0.01)
    out=t('list-panes','-a','-F','#{pane_id} dead=#{pane_dead} status=#{pane_dead_status} pipe=#{pane_pipe}')
    z=subprocess.run('ps -eo stat,cmd | grep "^Z" | grep agent.sh | wc -l',shell=True,capture_output=True,text=True).stdout.strip()
    nostatus=sum(1 for l in out.splitlines() if 'dead=1' in l and 'status= ' in l+' ')
    print(trial, 'zombies', z, 'dead-without-status', nostatus)
    if nostatus and 'reap' in sys.argv:
        # what the service does (src/tmux/unreaped.ts): a job's exit makes tmux reap every child
        t('run-shell','exit 0')
        out=t('list-panes','-a','-F','#{pane_id} dead=#{pane_dead} status=#{pane_dead_status}')
        print('  after run-shell:', sum(1 for l in out.splitlines() if 'dead=1' in l and 'status= ' in l+' '), 'without status')
    for fd in fds: os.close(fd)
subprocess.run(['tmux','-S',S,'kill-server'],capture_output=True)
