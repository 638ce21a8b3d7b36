// serve/scheduler.h: the server's request queue and its one decode thread.
//
//   Scheduler sched(model, tokenizer, /*max_batch=*/8, /*max_queue=*/32);
//   std::shared_ptr<Scheduler::Job> job = sched.submit(std::move(request));  // nullptr: queue full
//   std::string piece;
//   while (job->next(piece)) send(piece);   // text as it is generated (blocks)
//   Scheduler::Result r = job->result();    // text, finish_reason, token counts
//
// Requests wait in a FIFO queue of at most max_queue. The decode thread takes up to max_batch
// of them at a time and decodes them together through generate_batch (eval/generate.h: one KV
// cache, one row per request, each with its own sampling options), turning each row's tokens
// into text (eval/text_stream.h), cutting it at the request's stop strings
// (serve/stop_filter.h) and handing it to the waiting connection. A row ends at a stop token,
// a stop string, max_new_tokens, or when its job is cancelled (the client left); the batch goes
// on with the other rows. The next batch starts when the whole batch is done.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/bpe_tokenizer.h"
#include "eval/generate.h"
#include "model/gpt.h"

namespace gptcu {

class Scheduler {
 public:
  struct Request {
    std::vector<int32_t> prompt;    // must fit: prompt.size() + opt.max_new_tokens <= block_size
    SampleOptions opt;              // max_new_tokens, temperature, top_p, seed, stop_tokens, vocab_limit
    std::vector<std::string> stop;  // stop strings
  };
  struct Result {
    std::string text;               // the whole reply (stop token and stop string left out)
    std::string finish_reason;      // "stop" (a stop token or string) | "length" | "cancelled" | "error"
    std::string error;              // finish_reason "error": what went wrong
    int prompt_tokens = 0, completion_tokens = 0;  // completion: every sampled token, a stop token included
  };

  // One submitted request, shared by the connection that waits on it and the decode thread.
  class Job {
   public:
    // Blocks until there is new text (true; it is moved into `piece`) or the job has ended and
    // everything was read (false).
    bool next(std::string& piece);
    // Blocks until the job has ended; then its result.
    Result wait();
    // Ends the job soon (its row leaves the batch at the next token); a no-op once ended.
    void cancel();

   private:
    friend class Scheduler;
    Request request_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::string unread_;
    bool done_ = false;
    bool cancelled_ = false;
    Result result_;
    void append(const std::string& text);
    void end(Result r);
    bool cancelled();
  };

  // `model` and `tok` must outlive the scheduler; only its decode thread uses the model.
  Scheduler(GPT& model, const BpeTokenizer& tok, int max_batch, int max_queue);
  ~Scheduler();  // stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request; nullptr when max_queue requests are already waiting (or after stop()).
  std::shared_ptr<Job> submit(Request request);
  // Cancels the running batch, ends the queued jobs ("cancelled") and joins the decode thread.
  void stop();

  size_t queued();   // waiting for a batch
  size_t running();  // in the batch being decoded
  size_t cancelled() const { return cancelled_; }  // jobs that ended cancelled, so far

 private:
  void loop();
  void decode(std::vector<std::shared_ptr<Job>>& batch);

  GPT& model_;
  const BpeTokenizer& tok_;
  const int max_batch_, max_queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::vector<std::shared_ptr<Job>> running_;
  bool stopping_ = false;
  std::atomic<size_t> cancelled_{0};
  std::thread thread_;
};

}  // namespace gptcu
