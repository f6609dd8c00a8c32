/*
 * main.c
 *		plugin-storage-bridge: start-up, signals and the main loop.
 *
 * The bridge serves plugin_storage's SQL entry points over NATS
 * request/reply: bus.c takes requests from NATS into a bounded queue,
 * pool.c's workers run them on PostgreSQL and reply.  This file only wires
 * them together and handles signals:
 *
 *	SIGTERM, SIGINT		drain: stop taking requests, answer every request
 *						already received, exit 0.  A second one exits at
 *						once with status 1.
 *	SIGHUP				reload the settings that can change at run time.
 *	SIGPIPE				ignored.
 *
 * The handlers only set flags.  The signals are blocked in every thread
 * (they are blocked before any thread starts, and threads inherit the
 * mask); the main thread unblocks them only while it waits in pselect(),
 * so a signal can never slip in between checking a flag and waiting.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "migrate_cli.h"
#include "natsconf.h"
#include "observe.h"
#include "pool.h"
#include "queue.h"
#include "stats.h"

#ifndef BRIDGE_VERSION
#define BRIDGE_VERSION "0.0.0"
#endif

#define MAIN_POLL_MS 100

static volatile sig_atomic_t main_stop_count;
static volatile sig_atomic_t main_reload;
static volatile sig_atomic_t main_last_signal;
static sigset_t main_wait_mask;

/* Signal handler: only record what arrived */
static void
MainOnSignal(int signo)
{
	if (signo == SIGHUP)
		main_reload = 1;
	else
		main_stop_count++;
	main_last_signal = signo;
}

/* Install the handlers and block the signals until the main thread waits */
static void
MainSignals(void)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = MainOnSignal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &main_wait_mask);
	sigdelset(&main_wait_mask, SIGTERM);
	sigdelset(&main_wait_mask, SIGINT);
	sigdelset(&main_wait_mask, SIGHUP);
}

/* Wait for a signal, at most timeout_ms (forever if negative) */
static void
MainWait(int timeout_ms)
{
	struct timespec ts = {timeout_ms / 1000,
						  (long) (timeout_ms % 1000) * 1000000};

	pselect(0, NULL, NULL, NULL, timeout_ms < 0 ? NULL : &ts, &main_wait_mask);
}

/* Log the signal that last arrived */
static void
MainLogSignal(const char *msg)
{
	log_info(msg, LF_S("signal", strsignal(main_last_signal)));
}

/* Exit at once if a second stop signal arrived */
static void
MainCheckSecondSignal(void)
{
	MainWait(0);
	if (main_stop_count < 2)
		return;
	MainLogSignal("second signal; exiting at once");
	stats_log("stats at exit");
	_exit(1);
}

/* Serve until a stop signal, reloading on SIGHUP */
static void
MainLoop(void)
{
	while (main_stop_count == 0)
	{
		MainWait(-1);
		if (main_reload)
		{
			main_reload = 0;
			MainLogSignal("reloading settings");
			config_reload();
		}
	}
	MainLogSignal("draining: no new requests, answering those received");
}

/* Drain NATS, then let the workers answer everything queued */
static void
MainDrain(Queue *queue)
{
	ConfigLimits lim;
	int64_t until;

	config_limits(&lim);
	until = clock_mono_ms() + lim.drain_timeout_ms;
	bus_drain_begin();
	while (!bus_drain_wait(MAIN_POLL_MS))
	{
		MainCheckSecondSignal();
		if (clock_mono_ms() >= until)
		{
			log_warn("NATS drain timed out; answering what was received");
			break;
		}
	}
	queue_close(queue);
	while (!pool_wait(MAIN_POLL_MS))
		MainCheckSecondSignal();
}

/* Start everything, serve, drain, stop */
int
main(int argc, char **argv)
{
	const Config *cfg;
	Queue *queue;
	int rc;

	if (argc > 1 && strcmp(argv[1], "nats-config") == 0)
		return natsconf_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "migrate") == 0)
		return migrate_cli_main(argc - 1, argv + 1);
	rc = config_init(argc, argv);
	if (rc >= 0)
		return rc;
	cfg = config_get();
	MainSignals();
	log_info("starting", LF_S("version", BRIDGE_VERSION),
			 LF_I("pid", getpid()));
	if (!observe_start(cfg))
		return 1;
	/* a migration may take every connection but one (all of a pool of 1) */
	queue = queue_create(cfg->queue_size, cfg->pool_size - 1);
	pool_start(cfg->pool_size, queue);
	if (!bus_start(cfg, queue))
	{
		queue_close(queue);
		pool_wait(60000);
		pool_join();
		return 1;
	}
	observe_subscribe(cfg);
	log_info("serving", LF_S("subject", BUS_SUBJECT),
			 LF_S("queue_group", cfg->queue_group),
			 LF_I("pool_size", cfg->pool_size));
	MainLoop();
	MainDrain(queue);
	pool_join();
	observe_stop();
	bus_stop();
	stats_log("stopped");
	queue_destroy(queue);
	config_free();
	return 0;
}
