"""The web UI daemon is a stub until its issue lands; in-process, so coverage holds its floor from day one."""

from rpymostat_webui.__main__ import main


def test_the_stub_says_it_is_not_implemented_and_exits_2(capsys):
    assert main([]) == 2
    assert capsys.readouterr().err == "rpymostat-webui: not implemented yet\n"
